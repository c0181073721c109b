"""The layer plan: one ordered list of layers derived from an ArchSpec.

The plan is the single source of architecture facts. ``build_model`` makes its
modules from it and ``analyze`` computes shapes, parameters and MACs from it, so
the model and its analysis cannot drift apart. The order is execution order, the
order in which torchsummary's hooks fire: a block's layers, its shortcut, the
residual add, the block's ReLU and then the block itself (a module that holds
others, a block or an attention module, fires when its forward returns).

Every layer names all of its inputs, and every block names the layer that merges its
branches and the layer its shortcut starts from, so nothing downstream counts
positions. What each kind of block, stem, shortcut, attention and anti-aliasing adds
to the plan is written once, in ``explorer.core.parts``; this module only offers the
writer they use and walks the stages.

Nothing here imports torch: the plan and the analysis are pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Literal, NamedTuple

from explorer.core import parts
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import ArchSpec

Op = Literal[
    "conv",
    "conv1d",
    "bn",
    "relu",
    "sigmoid",
    "maxpool",
    "pool",
    "poolsame",
    "blur",
    "avgpool",
    "mean",
    "to_seq",
    "to_map",
    "flatten",
    "linear",
    "zeropad",
    "droppath",
    "add",
    "mul",
    "module",
    "block",
]
Role = Literal["stem", "main", "shortcut", "attention", "merge", "block", "head"]
# "identity" where the block keeps its shape, else a key of explorer.core.parts.SHORTCUTS.
ShortcutKind = str

NETWORK_INPUT = -1
# About three plans of the largest spec allowed (some 34,000 layers each), or many small ones.
MAX_CACHED_PLAN_LAYERS = 100_000

MODULE_TYPE_NAMES = {
    "conv": "Conv2d",
    "conv1d": "Conv1d",
    "bn": "BatchNorm2d",
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "maxpool": "MaxPool2d",
    "pool": "AvgPool2d",
    "poolsame": "AvgPool2dSame",
    "blur": "BlurPool2d",
    "avgpool": "AdaptiveAvgPool2d",
    "flatten": "Flatten",
    "linear": "Linear",
    "zeropad": "ZeroPadShortcut",
    "droppath": "DropPath",
    "add": "Add",
    "mul": "Mul",
}
# Steps that are plain tensor arithmetic in the forward pass, never a module.
FUNCTIONAL_OPS = frozenset({"mean", "to_seq", "to_map", "add", "mul"})
# Steps that hold other steps: their row follows their members, as the hooks fire.
CONTAINER_OPS = frozenset({"module", "block"})


@dataclass(frozen=True, slots=True)
class PlannedLayer:
    """One step of the forward pass.

    ``name`` is the module path in the built model (``layer2.0.conv1``); a block's
    ReLU module is called more than once, so several layers share its name.
    ``functional`` steps (the stem's ReLU, the residual add, the flatten) have no
    module of their own and so no torchsummary row. ``inputs`` are indices of the
    layers whose outputs this one consumes (``NETWORK_INPUT`` for the image); a
    container step (``block``, ``module``) stands for the steps since ``first``:
    its input is theirs and its output the output of the step before it.
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
    dilation: int = 1
    groups: int = 1
    bias: bool = False
    ceil_mode: bool = False
    functional: bool = False
    type_name: str = ""
    first: int = -1
    rate: float = 0.0


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
    merge_layer: int
    """The layer that joins the two branches (the residual add)."""
    shortcut_source: int
    """The layer whose output the shortcut branch starts from (the block's input, or
    the pre-activated input of a pre-activation block)."""
    output_layer: int = -1
    """The step whose output is the block's output (the container row repeats it)."""
    dilation: int = 1
    drop_path: float = 0.0
    zero_init: str = ""
    """The layer that ``zero_init_residual`` zeroes: the last norm (or conv) of the main branch."""


@dataclass(frozen=True, slots=True)
class LayerPlan:
    spec: ArchSpec
    layers: tuple[PlannedLayer, ...]
    blocks: tuple[PlannedBlock, ...]


Where = dict[str, int | None]


class PlanWriter:
    """Appends layers to a plan; the parts' definitions call it to lay out their layers."""

    def __init__(self, spec: ArchSpec) -> None:
        self.spec = spec
        self.layers: list[PlannedLayer] = []
        self.where: Where = {}
        # A module name used twice is one module called twice (torchvision's ``relu``), so it
        # must be the same op each time; a part that reuses another's name by mistake fails here.
        self._module_ops: dict[str, Op] = {}

    def add(self, name: str, op: Op, role: Role, inputs: tuple[int, ...], **details: object) -> int:
        details.setdefault("type_name", MODULE_TYPE_NAMES.get(op, ""))
        if op in FUNCTIONAL_OPS:
            details["functional"] = True
        else:
            known = self._module_ops.setdefault(name, op)
            if known != op:
                raise ValueError(f"plan: the module name {name!r} is given to a {known} and a {op}")
        for key, value in self.where.items():
            details.setdefault(key, value)
        layer = PlannedLayer(name, op, role, inputs, **details)  # type: ignore[arg-type]
        self.layers.append(layer)
        return len(self.layers) - 1

    @property
    def next_index(self) -> int:
        return len(self.layers)

    def channels(self, index: int) -> int:
        return self.spec.in_channels if index == NETWORK_INPUT else self.layers[index].out_channels

    def conv(
        self,
        name: str,
        role: Role,
        source: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        groups: int = 1,
        dilation: int = 1,
        bias: bool = False,
    ) -> int:
        padding = dilation * (kernel_size - 1) // 2
        return self.add(
            name,
            "conv",
            role,
            (source,),
            in_channels=self.channels(source),
            out_channels=out_channels,
            kernel_size=kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )

    def same(self, name: str, op: Op, role: Role, source: int, **details: object) -> int:
        """A step that keeps the channel count (BN, ReLU, pooling, drop-path ...)."""
        channels = self.channels(source)
        return self.add(name, op, role, (source,), in_channels=channels, out_channels=channels, **details)

    def container(self, name: str, op: Op, role: Role, source: int, first: int, type_name: str) -> int:
        """The row of a module that holds the steps from ``first`` to the last one written."""
        return self.add(
            name,
            op,
            role,
            (source,),
            in_channels=self.channels(source),
            out_channels=self.layers[-1].out_channels,
            type_name=type_name,
            first=first,
        )


@dataclass(frozen=True, slots=True)
class BlockSite:
    """Where a block sits and what it must produce; the block kinds plan from it."""

    spec: ArchSpec
    prefix: str
    stage: int
    index: int
    source: int
    in_channels: int
    inner_channels: int
    out_channels: int
    stride: int
    first_dilation: int
    dilation: int
    drop_path: float
    needs_projection: bool

    def name(self, part: str) -> str:
        return f"{self.prefix}.{part}"


def stage_dilations(spec: ArchSpec) -> tuple[tuple[int, int, int], ...]:
    """(stride, dilation, previous dilation) of each stage, by timm's output-stride rule:
    once the network has reached ``output_stride``, later stages dilate instead of striding."""
    net_stride = parts.stem_stride(spec)
    dilation = previous = 1
    result = []
    for stride in spec.stage_strides:
        if spec.output_stride != 32 and net_stride >= spec.output_stride:
            dilation *= stride
            stride = 1
        else:
            net_stride *= stride
        result.append((stride, dilation, previous))
        previous = dilation
    return tuple(result)


def drop_path_rates(spec: ArchSpec) -> tuple[float, ...]:
    """Each block's stochastic-depth rate: timm's linear rule, 0 for the first block and
    ``drop_path`` for the last."""
    total = sum(spec.depths)
    if total == 1 or not spec.drop_path:
        return (0.0,) * total
    return tuple(spec.drop_path * i / (total - 1) for i in range(total))


def _plan_block(writer: PlanWriter, site: BlockSite) -> PlannedBlock:
    writer.where = {"stage": site.stage, "block": site.index}
    first = writer.next_index
    kind = parts.BLOCKS[site.spec.block]
    built = kind.plan(writer, site)
    writer.container(site.prefix, "block", "block", site.source, first, kind.class_name)
    return PlannedBlock(
        name=site.prefix,
        stage=site.stage,
        index=site.index,
        type_name=kind.class_name,
        in_channels=site.in_channels,
        inner_channels=site.inner_channels,
        out_channels=site.out_channels,
        stride=site.stride,
        shortcut=built.shortcut,
        first_layer=first,
        last_layer=writer.next_index - 1,
        merge_layer=built.merge,
        shortcut_source=built.shortcut_source,
        output_layer=built.output,
        dilation=site.dilation,
        drop_path=site.drop_path,
        zero_init=built.zero_init,
    )


class BlockLayout(NamedTuple):
    """What a block's layers are made from, apart from where they sit in the plan: two
    blocks with the same layout (in specs of the same structure) plan the same layers.
    A named tuple: an edit of a deep network makes and compares a thousand of them."""

    stage: int
    block_index: int  # in its stage
    in_channels: int
    out_channels: int
    inner_channels: int
    stride: int
    first_dilation: int
    dilation: int
    drop_path: float
    needs_projection: bool


@lru_cache(maxsize=4)  # an edit compares the layouts of the spec before it, made at the edit before
def block_layouts(spec: ArchSpec, stem_channels: int) -> tuple[BlockLayout, ...]:
    """Every block's layout, in order: plain arithmetic on the spec, no layers planned."""
    block_kind = parts.BLOCKS[spec.block]
    rates = iter(drop_path_rates(spec))
    channels = stem_channels
    layouts = []
    for stage, ((stride, dilation, previous), depth) in enumerate(
        zip(stage_dilations(spec), spec.depths, strict=True)
    ):
        out_channels = spec.stage_out_channels(stage)
        inner_channels = spec.inner_width(stage)
        for index in range(depth):
            block_stride = stride if index == 0 else 1
            needs = block_stride != 1 or channels != out_channels
            if index == 0 and block_kind.project_every_stage:
                needs = True
            layouts.append(
                BlockLayout(
                    stage=stage,
                    block_index=index,
                    in_channels=channels,
                    out_channels=out_channels,
                    inner_channels=inner_channels,
                    stride=block_stride,
                    first_dilation=previous if index == 0 else dilation,
                    dilation=dilation,
                    drop_path=next(rates),
                    needs_projection=needs,
                )
            )
            channels = out_channels
    return tuple(layouts)


def _plan_blocks(
    writer: PlanWriter, source: int, layouts: tuple[BlockLayout, ...], blocks: list[PlannedBlock]
) -> None:
    """Plans the blocks of ``layouts`` after ``source``, then the head."""
    spec = writer.spec
    x = source
    for layout in layouts:
        site = BlockSite(
            spec=spec,
            prefix=f"layer{layout.stage + 1}.{layout.block_index}",
            stage=layout.stage,
            index=layout.block_index,
            source=x,
            in_channels=layout.in_channels,
            inner_channels=layout.inner_channels,
            out_channels=layout.out_channels,
            stride=layout.stride,
            first_dilation=layout.first_dilation,
            dilation=layout.dilation,
            drop_path=layout.drop_path,
            needs_projection=layout.needs_projection,
        )
        block = _plan_block(writer, site)
        blocks.append(block)
        x = block.output_layer
    writer.where = {}
    parts.plan_head(writer, x)


@size_bounded_cache(max_entries=64, max_size=MAX_CACHED_PLAN_LAYERS, size_of=lambda plan: len(plan.layers))
def layer_plan(spec: ArchSpec) -> LayerPlan:
    """The ordered layers of ``spec`` (cached: specs are immutable)."""
    writer = PlanWriter(spec)
    block_kind = parts.BLOCKS[spec.block]
    x = parts.STEMS[spec.stem].plan(writer, block_kind.preact)
    x = parts.plan_stem_pool(writer, x)
    blocks: list[PlannedBlock] = []
    _plan_blocks(writer, x, block_layouts(spec, writer.channels(x)), blocks)
    return LayerPlan(spec, tuple(writer.layers), tuple(blocks))


# What only places blocks (their number, widths and strides), shapes the head or sizes the
# image: specs equal in every other field plan the same stem, and the same layers for
# blocks of the same layout.
_PLACEMENT_FIELDS = frozenset({"depths", "widths", "strides", "num_classes", "input_size"})


def _structure(spec: ArchSpec) -> tuple[object, ...]:
    return tuple(getattr(spec, field.name) for field in fields(spec) if field.name not in _PLACEMENT_FIELDS)


def layer_plan_after(previous: LayerPlan, spec: ArchSpec) -> LayerPlan:
    """``layer_plan(spec)``, reusing ``previous``'s layers up to the first block an edit
    changed; cached alike, so the next edit finds this plan."""
    return layer_plan.get_or_compute(lambda: _replan(previous, spec), spec)


def _replan(previous: LayerPlan, spec: ArchSpec) -> LayerPlan:
    if not previous.blocks or _structure(previous.spec) != _structure(spec):
        return layer_plan.__wrapped__(spec)
    stem_channels = previous.blocks[0].in_channels
    old = block_layouts(previous.spec, stem_channels)
    new = block_layouts(spec, stem_channels)
    kept = 0
    for before, after in zip(old, new, strict=False):
        if before != after:
            break
        kept += 1
    if kept == 0:
        return layer_plan.__wrapped__(spec)
    last_kept = previous.blocks[kept - 1]
    writer = PlanWriter(spec)
    writer.layers = list(previous.layers[: last_kept.last_layer + 1])
    blocks = list(previous.blocks[:kept])
    _plan_blocks(writer, last_kept.output_layer, new[kept:], blocks)
    return LayerPlan(spec, tuple(writer.layers), tuple(blocks))
