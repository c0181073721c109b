"""The layer table's columns, each declared once.

A column says what it is called, what its figures count, how a value is written (for
people: the text table, Markdown, the Layers tab; as data: CSV, JSON), where it is aligned,
what the Layers tab says of it, what a stage's or block's row shows in it, and which
outputs show it. Every output is made from ``LAYER_COLUMNS`` (the Layers tab's timing
columns from ``PROFILE_COLUMNS``): a column declared here appears in each output it names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Literal

from explorer.core.analysis import LayerRow
from explorer.core.units import format_count, format_macs, format_receptive_field, format_shape

if TYPE_CHECKING:  # the profile's module is not on the way to the window's first picture
    from explorer.core.profile import GroupTime, LayerTime


class Output(Enum):
    """The places the layer table is shown or written."""

    TEXT_TABLE = "text table"
    CSV = "CSV"
    MARKDOWN = "Markdown"
    JSON = "JSON"
    LAYERS_TAB = "Layers tab"


EVERY_OUTPUT = frozenset(Output)
DATA = frozenset({Output.CSV, Output.JSON})


class OfGroup(Enum):
    """What the row of a stage or a block (a group of layers) shows in a column."""

    TOTAL = "total"
    """The sum of its layers' values."""
    OUTPUT = "output"
    """Its output's, which its last layer makes."""
    LAST_LAYER = "last layer"
    """Its last layer's. Shown where the group's row stands in for its layers (a collapsed row
    of the Layers tab); a heading written above them (the text table) leaves it to the last
    layer's own row."""
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class LayerColumn:
    key: str
    """Its name in CSV's header and in JSON's rows; the ``LayerRow`` field it reads unless
    ``raw`` says otherwise."""
    header: str
    """Its title above the tables (the text table's starts in lower case, an acronym's not)."""
    unit: str | None
    """What its figures count; ``None`` where it holds no quantity (a name, a shape)."""
    outputs: frozenset[Output]
    raw: Callable[[LayerRow], object] | None = None
    """Its value as data (CSV, JSON); ``None``: the row's field called ``key``."""
    value: Callable[[LayerRow], Any] | None = None
    """Its value as people read it, before formatting; ``None``: the raw value."""
    text: Callable[[Any], str] = str
    """A value as the text table and Markdown write it."""
    tab_text: Callable[[Any], str] | None = None
    """A value as the Layers tab shows it; ``None``: as ``text`` writes it."""
    title: str | None = None
    """Its name in full, where the header abbreviates it (and as the Layers tab copies it)."""
    description: str | None = None
    """What the Layers tab's header says of it when pointed at; ``None``: its title."""
    align: Literal["left", "right"] = "left"
    of_group: OfGroup = OfGroup.NOTHING
    heading: bool = False
    """It names the row: each grouped output (the text table, the Layers tab) writes its own
    words in it for a stage's or block's row, and may shorten a layer's (a path's last part)."""
    sort_key: Callable[[Any], object] | None = None
    """What the Layers tab sorts the column by; ``None``: the value itself."""
    cell_tip: Callable[[Any], str] | None = None
    """What a cell of the Layers tab says when pointed at; ``None``: what its row is."""
    copied: Callable[[Any], str] | None = None
    """A cell as the Layers tab copies it; ``None``: as shown."""
    tab_width: int = 110
    """Its width in the Layers tab, in pixels, before the window's size is shared out."""
    tab_min_width: int | None = None
    """How narrow a small window makes it; ``None``: as wide as its widest entry."""
    # ``raw`` and ``value`` with their defaults filled in once: they are read for every cell.
    raw_value: Callable[[LayerRow], object] = field(init=False, repr=False, compare=False)
    cell_value: Callable[[LayerRow], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = attrgetter(self.key) if self.raw is None else self.raw
        object.__setattr__(self, "raw_value", raw)
        object.__setattr__(self, "cell_value", raw if self.value is None else self.value)

    @property
    def full_title(self) -> str:
        return self.title or self.header

    def group_value(self, rows: Sequence[LayerRow]) -> Any:
        """What a group of ``rows`` (in execution order) shows; ``None``: nothing."""
        if self.of_group is OfGroup.TOTAL:
            return sum(map(self.cell_value, rows))
        if self.of_group in (OfGroup.OUTPUT, OfGroup.LAST_LAYER):
            return self.cell_value(rows[-1])
        return None

    def shown(self, value: Any) -> str:
        """``value`` in the Layers tab."""
        return (self.text if self.tab_text is None else self.tab_text)(value)


def row_details(row: LayerRow) -> str:
    """What a row does that its type does not say: a dilation other than 1, a drop-path rate."""
    details = []
    if row.dilation is not None and row.dilation != 1:
        details.append(f"dilation {row.dilation}")
    if row.rate is not None:
        details.append(f"rate {row.rate:.4g}")
    return f", {', '.join(details)}" if details else ""


def type_label(row: LayerRow) -> str:
    """A row's type with what sets it apart: a shortcut's, a functional step's, its details."""
    if row.op == "block":
        return row.type
    if row.op == "add":
        return "Add (residual)"
    type_name = row.type or row.op  # a functional step with no module type, such as a mean
    if row.summary_id is None:
        return f"{type_name} (functional{row_details(row)})"
    if row.role == "shortcut":
        return f"{type_name} (shortcut{row_details(row)})"
    details = row_details(row)
    return f"{type_name} ({details[2:]})" if details else type_name


def _digits(value: int) -> str:
    return f"{value:,}"


# A receptive field as its column shows it: the convolution path's side in pixels, and whether
# an attention gate's global pooling makes each output see the whole input anyway.
ReceptiveField = tuple[int, bool]
_receptive_field = attrgetter("receptive_field", "sees_whole_input")


def _receptive_field_text(seen: ReceptiveField) -> str:
    return format_receptive_field(*seen, grouped=False)


def _receptive_field_shown(seen: ReceptiveField) -> str:
    return format_receptive_field(*seen)


def _receptive_field_tip(seen: ReceptiveField) -> str:
    side, whole_input = seen
    if whole_input:
        return (
            "each output value depends on the whole input: an attention's global pooling before "
            f"it scales every position by what it saw everywhere; through the convolutions "
            f"alone it sees {side} x {side} input pixels"
        )
    return f"each output value sees {side} x {side} input pixels"


def _params_tip(params: int) -> str:
    return f"{params:,} parameters ({format_count(params)})"


def _macs_tip(macs: int) -> str:
    return f"{macs:,} multiply-adds per image ({format_macs(macs)})"


_FIGURES = frozenset({Output.TEXT_TABLE, Output.MARKDOWN, Output.LAYERS_TAB, *DATA})

# In CSV's order; the tables keep it too. JSON's rows keep ``LayerRow``'s (see json_columns).
LAYER_COLUMNS: tuple[LayerColumn, ...] = (
    LayerColumn("index", "Index", None, DATA),
    LayerColumn(
        "name",
        "Layer",
        None,
        EVERY_OUTPUT,
        heading=True,
        tab_width=200,
        tab_min_width=150,
    ),
    LayerColumn(
        "type",
        "Type",
        None,
        EVERY_OUTPUT,
        value=type_label,
        heading=True,
        tab_width=240,
        tab_min_width=100,
    ),
    LayerColumn("op", "Op", None, frozenset({Output.JSON})),
    LayerColumn("summary_id", "torchsummary row", None, DATA),
    LayerColumn("role", "Role", None, DATA),
    LayerColumn("stage", "Stage", None, DATA),
    LayerColumn("block", "Block", None, DATA),
    LayerColumn("inputs", "Inputs", None, frozenset({Output.JSON})),
    LayerColumn("input_shape", "Input shape", None, DATA),
    LayerColumn(
        "output_shape",
        "Output shape",
        None,
        _FIGURES,
        text=format_shape,
        of_group=OfGroup.OUTPUT,
        sort_key=math.prod,
        tab_width=115,
    ),
    LayerColumn("kernel_size", "Kernel", "pixels", DATA),
    LayerColumn("stride", "Stride", "pixels", DATA),
    LayerColumn("padding", "Padding", "pixels", DATA),
    LayerColumn("groups", "Groups", None, DATA),
    LayerColumn(
        "params",
        "Params",
        "parameters",
        _FIGURES,
        text=_digits,
        align="right",
        of_group=OfGroup.TOTAL,
        cell_tip=_params_tip,
        copied=str,
        tab_width=105,
    ),
    LayerColumn("trainable_params", "Trainable params", "parameters", DATA),
    LayerColumn(
        "macs",
        "MACs",
        "multiply-adds per image",
        _FIGURES,
        text=_digits,
        align="right",
        of_group=OfGroup.TOTAL,
        cell_tip=_macs_tip,
        copied=str,
        tab_width=130,
    ),
    LayerColumn(
        "receptive_field",
        "RF",
        "input pixels",
        _FIGURES,
        value=_receptive_field,
        text=_receptive_field_text,
        tab_text=_receptive_field_shown,
        title="Receptive field",
        description="Receptive field: the side, in input pixels, of the square each output sees",
        align="right",
        of_group=OfGroup.LAST_LAYER,
        sort_key=itemgetter(0),
        cell_tip=_receptive_field_tip,
        tab_width=120,
    ),
    LayerColumn("sees_whole_input", "Sees the whole input", None, DATA),
    LayerColumn(
        "jump",
        "Jump",
        "input pixels",
        frozenset({Output.TEXT_TABLE, *DATA}),
        align="right",
        of_group=OfGroup.LAST_LAYER,
    ),
    LayerColumn("output_bytes", "Output bytes", "bytes per image", DATA),
    LayerColumn("dilation", "Dilation", "pixels", DATA),
    LayerColumn("rate", "Drop-path rate", None, DATA),
)


def columns_for(output: Output) -> tuple[LayerColumn, ...]:
    """The columns ``output`` shows, in their order there."""
    shown = tuple(column for column in LAYER_COLUMNS if output in column.outputs)
    return json_columns(shown) if output is Output.JSON else shown


def json_columns(columns: tuple[LayerColumn, ...]) -> tuple[LayerColumn, ...]:
    """JSON's rows keep the order of ``LayerRow``'s fields, as the files written before;
    a column that is no field comes after them, in the declaration's order."""
    order = {record_field.name: place for place, record_field in enumerate(fields(LayerRow))}
    return tuple(sorted(columns, key=lambda column: order.get(column.key, len(order))))


PROFILE_OUTPUTS = frozenset({Output.LAYERS_TAB})
"""Where a profile's figures can show beside the layers: no other output holds a profile."""


@dataclass(frozen=True, slots=True)
class ProfileColumn:
    """A figure of the last profile, per layer (a block, a stage: the sum of its layers)."""

    key: str
    header: str
    unit: str | None
    description: str
    text: Callable[[LayerTime | GroupTime], str]
    outputs: frozenset[Output] = PROFILE_OUTPUTS
    tab_width: int = 80


def _time_text(timed: LayerTime | GroupTime) -> str:
    return f"{timed.time_s * 1e3:,.3f}"


def _share_text(timed: LayerTime | GroupTime) -> str:
    return f"{timed.share:.1%}"


def _speed_text(timed: LayerTime | GroupTime) -> str:
    return "" if timed.gmacs_per_s is None else f"{timed.gmacs_per_s:,.3g}"


PROFILE_COLUMNS: tuple[ProfileColumn, ...] = (
    ProfileColumn(
        "time_ms",
        "Time (ms)",
        "milliseconds",
        "The median time of the layer (a block, a stage: the sum of its layers) in the last profile",
        _time_text,
    ),
    ProfileColumn("share", "% time", "percent", "Its share of the time of all the layers", _share_text),
    ProfileColumn(
        "gmacs_per_s",
        "GMAC/s",
        "billion multiply-adds per second",
        "Achieved multiply-adds per second (the layer's MACs for the batch over its time)",
        _speed_text,
    ),
)


def profile_columns_for(output: Output) -> tuple[ProfileColumn, ...]:
    return tuple(column for column in PROFILE_COLUMNS if output in column.outputs)
