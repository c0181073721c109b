"""What a plan is written in: its layers, its blocks and the writer that the parts use.

The parts (``explorer.core.parts``) lay out their layers with ``PlanWriter`` and
``BlockSite``; the plan (``explorer.core.plan``) walks the stages and calls the parts.
So this vocabulary sits below both, and the ops it names below it (``explorer.core.ops``).
The parts and the plan read a spec only through ``SpecView``, the fields and facts of
``ArchSpec`` that planning uses: the spec, which plans itself to check its shapes, sits
above them all.

Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import Field, dataclass
from typing import Any, ClassVar, Literal, Protocol

from explorer.core.ops import FUNCTIONAL_OPS, MODULE_TYPE_NAMES, Op

Role = Literal["stem", "main", "shortcut", "attention", "merge", "block", "head"]
# "identity" where the block keeps its shape, else a key of explorer.core.parts.SHORTCUTS.
ShortcutKind = str

NETWORK_INPUT = -1


class SpecView(Protocol):
    """An architecture as planning reads it (``explorer.core.spec.ArchSpec`` is one)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __hash__(self) -> int: ...

    @property
    def block(self) -> str: ...
    @property
    def depths(self) -> tuple[int, ...]: ...
    @property
    def stem(self) -> str: ...
    @property
    def stem_width(self) -> int: ...
    @property
    def in_channels(self) -> int: ...
    @property
    def num_classes(self) -> int: ...
    @property
    def zero_init_residual(self) -> bool: ...
    @property
    def groups(self) -> int: ...
    @property
    def shortcut(self) -> str: ...
    @property
    def stem_pool(self) -> str: ...
    @property
    def stride_on(self) -> str: ...
    @property
    def attention(self) -> str: ...
    @property
    def se_ratio(self) -> float: ...
    @property
    def anti_alias(self) -> str: ...
    @property
    def drop_path(self) -> float: ...
    @property
    def output_stride(self) -> int: ...
    @property
    def num_stages(self) -> int: ...
    @property
    def stage_widths(self) -> tuple[int, ...]: ...
    @property
    def stage_strides(self) -> tuple[int, ...]: ...
    @property
    def input_shape(self) -> tuple[int, int, int]: ...
    @property
    def stem_out_channels(self) -> int: ...
    def inner_width(self, stage: int) -> int: ...
    def stage_out_channels(self, stage: int) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...


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


Where = dict[str, int | None]


class PlanWriter:
    """Appends layers to a plan; the parts' definitions call it to lay out their layers."""

    def __init__(self, spec: SpecView) -> None:
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

    spec: SpecView
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
