"""The layer plan: one ordered list of layers derived from an ArchSpec.

The plan is the single source of architecture facts. ``build_model`` makes its
modules from it and ``analyze`` computes shapes, parameters and MACs from it, so
the model and its analysis cannot drift apart. The order is execution order, the
order in which torchsummary's hooks fire: a block's layers, its shortcut, the
residual add, the block's ReLU and then the block itself (a block's hook fires
when its forward returns).

Nothing here imports torch: the plan and the analysis are pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import ArchSpec

Op = Literal["conv", "bn", "relu", "maxpool", "avgpool", "flatten", "linear", "zeropad", "add", "block"]
Role = Literal["stem", "main", "shortcut", "merge", "block", "head"]
ShortcutKind = Literal["identity", "projection", "zero-pad"]

NETWORK_INPUT = -1
# About three plans of the largest spec allowed (some 34,000 layers each), or many small ones.
MAX_CACHED_PLAN_LAYERS = 100_000

BLOCK_CLASS_NAMES = {"basic": "ResidualBlock", "bottleneck": "BottleneckBlock"}

MODULE_TYPE_NAMES = {
    "conv": "Conv2d",
    "bn": "BatchNorm2d",
    "relu": "ReLU",
    "maxpool": "MaxPool2d",
    "avgpool": "AdaptiveAvgPool2d",
    "flatten": "Flatten",
    "linear": "Linear",
    "zeropad": "ZeroPadShortcut",
    "add": "Add",
}


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    """One step of the forward pass.

    ``name`` is the module path in the built model (``layer2.0.conv1``); a block's
    ReLU module is called more than once, so several layers share its name.
    ``functional`` steps (the stem's ReLU, the residual add, the flatten) have no
    module of their own and so no torchsummary row. ``inputs`` are indices of the
    layers whose outputs this one consumes (``NETWORK_INPUT`` for the image); a
    ``block`` step stands for the whole block: its input is the block's input and
    its output the output of the step before it.
    """

    name: str
    op: Op
    role: Role
    inputs: tuple[int, ...]
    stage: int | None = None
    block: int | None = None
    in_channels: int = 0
    out_channels: int = 0
    kernel_size: int = 0
    stride: int = 1
    padding: int = 0
    groups: int = 1
    bias: bool = False
    functional: bool = False
    type_name: str = ""


@dataclass(frozen=True, slots=True)
class PlannedBlock:
    name: str
    stage: int
    index: int
    type_name: str
    in_channels: int
    inner_channels: int
    out_channels: int
    stride: int
    shortcut: ShortcutKind
    first_layer: int
    last_layer: int


@dataclass(frozen=True, slots=True)
class LayerPlan:
    spec: ArchSpec
    layers: tuple[PlannedLayer, ...]
    blocks: tuple[PlannedBlock, ...]


class _PlanWriter:
    def __init__(self) -> None:
        self.layers: list[PlannedLayer] = []

    def add(self, name: str, op: Op, role: Role, inputs: tuple[int, ...], **details: object) -> int:
        type_name = MODULE_TYPE_NAMES.get(op, "")
        layer = PlannedLayer(name, op, role, inputs, type_name=type_name, **details)  # type: ignore[arg-type]
        self.layers.append(layer)
        return len(self.layers) - 1


def shortcut_kind(spec: ArchSpec, in_channels: int, out_channels: int, stride: int) -> ShortcutKind:
    if stride == 1 and in_channels == out_channels:
        return "identity"
    return "zero-pad" if spec.shortcut == "zero-pad" else "projection"


def _conv(
    plan: _PlanWriter,
    name: str,
    role: Role,
    source: int,
    where: dict[str, int | None],
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
) -> int:
    return plan.add(
        name,
        "conv",
        role,
        (source,),
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=kernel_size // 2,
        groups=groups,
        **where,
    )


def _bn(
    plan: _PlanWriter, name: str, role: Role, source: int, where: dict[str, int | None], channels: int
) -> int:
    return plan.add(name, "bn", role, (source,), in_channels=channels, out_channels=channels, **where)


def _plan_block(
    spec: ArchSpec, plan: _PlanWriter, stage: int, index: int, source: int, in_channels: int
) -> tuple[int, PlannedBlock]:
    prefix = f"layer{stage + 1}.{index}"
    where: dict[str, int | None] = {"stage": stage, "block": index}
    stride = spec.stage_strides[stage] if index == 0 else 1
    inner = spec.inner_width(stage)
    out_channels = spec.stage_out_channels(stage)
    relu = f"{prefix}.relu"
    first = len(plan.layers)

    def act(step: int, channels: int) -> int:
        return plan.add(relu, "relu", "main", (step,), in_channels=channels, out_channels=channels, **where)

    if spec.block == "basic":
        x = _conv(plan, f"{prefix}.conv1", "main", source, where, in_channels, inner, 3, stride)
        x = _bn(plan, f"{prefix}.bn1", "main", x, where, inner)
        x = act(x, inner)
        x = _conv(plan, f"{prefix}.conv2", "main", x, where, inner, out_channels, 3)
        x = _bn(plan, f"{prefix}.bn2", "main", x, where, out_channels)
    else:
        x = _conv(plan, f"{prefix}.conv1", "main", source, where, in_channels, inner, 1)
        x = _bn(plan, f"{prefix}.bn1", "main", x, where, inner)
        x = act(x, inner)
        x = _conv(plan, f"{prefix}.conv2", "main", x, where, inner, inner, 3, stride, spec.groups)
        x = _bn(plan, f"{prefix}.bn2", "main", x, where, inner)
        x = act(x, inner)
        x = _conv(plan, f"{prefix}.conv3", "main", x, where, inner, out_channels, 1)
        x = _bn(plan, f"{prefix}.bn3", "main", x, where, out_channels)

    kind = shortcut_kind(spec, in_channels, out_channels, stride)
    shortcut = source
    if kind == "projection":
        shortcut = _conv(
            plan, f"{prefix}.shortcut.0", "shortcut", source, where, in_channels, out_channels, 1, stride
        )
        shortcut = _bn(plan, f"{prefix}.shortcut.1", "shortcut", shortcut, where, out_channels)
    elif kind == "zero-pad":
        shortcut = plan.add(
            f"{prefix}.shortcut",
            "zeropad",
            "shortcut",
            (source,),
            in_channels=in_channels,
            out_channels=out_channels,
            kernel_size=1,
            stride=stride,
            **where,
        )
    x = plan.add(
        f"{prefix}.add",
        "add",
        "merge",
        (x, shortcut),
        in_channels=out_channels,
        out_channels=out_channels,
        functional=True,
        **where,
    )
    x = act(x, out_channels)
    block_type = BLOCK_CLASS_NAMES[spec.block]
    plan.layers.append(
        PlannedLayer(
            prefix,
            "block",
            "block",
            (source,),
            in_channels=in_channels,
            out_channels=out_channels,
            stride=stride,
            type_name=block_type,
            **where,  # type: ignore[arg-type]
        )
    )
    block = PlannedBlock(
        name=prefix,
        stage=stage,
        index=index,
        type_name=block_type,
        in_channels=in_channels,
        inner_channels=inner,
        out_channels=out_channels,
        stride=stride,
        shortcut=kind,
        first_layer=first,
        last_layer=len(plan.layers) - 1,
    )
    return x, block


@size_bounded_cache(max_entries=64, max_size=MAX_CACHED_PLAN_LAYERS, size_of=lambda plan: len(plan.layers))
def layer_plan(spec: ArchSpec) -> LayerPlan:
    """The ordered layers of ``spec`` (cached: specs are immutable)."""
    plan = _PlanWriter()
    stem: dict[str, int | None] = {}
    channels = spec.stem_width
    if spec.stem == "imagenet":
        x = _conv(plan, "conv1", "stem", NETWORK_INPUT, stem, spec.in_channels, channels, 7, 2)
    else:
        x = _conv(plan, "conv1", "stem", NETWORK_INPUT, stem, spec.in_channels, channels, 3, 1)
    x = _bn(plan, "bn1", "stem", x, stem, channels)
    x = plan.add("relu", "relu", "stem", (x,), in_channels=channels, out_channels=channels, functional=True)
    if spec.stem == "imagenet":
        x = plan.add(
            "maxpool",
            "maxpool",
            "stem",
            (x,),
            in_channels=channels,
            out_channels=channels,
            kernel_size=3,
            stride=2,
            padding=1,
        )

    blocks: list[PlannedBlock] = []
    for stage, depth in enumerate(spec.depths):
        for index in range(depth):
            x, block = _plan_block(spec, plan, stage, index, x, channels)
            blocks.append(block)
            channels = block.out_channels

    x = plan.add("avgpool", "avgpool", "head", (x,), in_channels=channels, out_channels=channels)
    x = plan.add(
        "flatten", "flatten", "head", (x,), in_channels=channels, out_channels=channels, functional=True
    )
    if spec.num_classes:
        plan.add("fc", "linear", "head", (x,), in_channels=channels, out_channels=spec.num_classes, bias=True)
    return LayerPlan(spec, tuple(plan.layers), tuple(blocks))
