"""Colouring a diagram's boxes by a metric: values per node, a sequential colour map, a legend.

The static metrics come from the analysis (no torch); latency and achieved GMAC/s from a
profile of the same spec. A box that stands for several layers (a stem, a block, a stage)
takes the sum of its layers' values; its GMAC/s is its MACs over its time. A box of a folded
group (drawn once for several alike blocks) likewise takes the sum over all of its blocks, and
its value and the legend say so; the scale spans those sums. The colour map is
viridis (perceptually uniform, readable in grey and by the colour-blind), held here as its
stops so that nothing needs matplotlib; past two decades between the smallest and the largest
positive value, the scale is logarithmic, else linear from the smallest to the largest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Literal

from explorer.core.analysis import LayerRow, analyze
from explorer.core.graph import ArchGraph, Node
from explorer.core.plan import CONTAINER_OPS
from explorer.core.profile import Profile
from explorer.core.units import format_bytes, format_count, format_macs

Metric = Literal["params", "macs", "activations", "latency", "gmacs"]
METRICS: tuple[Metric, ...] = ("params", "macs", "activations", "latency", "gmacs")
# The metrics whose value for several layers is the sum of theirs (a rate is not).
SUMMED_METRICS: tuple[Metric, ...] = ("params", "macs", "activations", "latency")
STATIC_METRICS: tuple[Metric, ...] = ("params", "macs", "activations")
PROFILED_METRICS: tuple[Metric, ...] = ("latency", "gmacs")

# matplotlib's viridis sampled at nine equal steps, dark to light.
VIRIDIS = (
    "#440154",
    "#472C7A",
    "#3B518B",
    "#2C718E",
    "#21908D",
    "#27AD81",
    "#5CC863",
    "#AADC32",
    "#FDE725",
)
LEGEND_ID = "legend"
LEGEND_CELLS = 9
# Past this ratio between the largest and the smallest positive value, a linear scale would
# paint all but a few boxes the darkest colour.
LOG_SCALE_RATIO = 100.0
UNCOLOURED_FILL = "#FFFFFF"
DARK_TEXT = "#222222"
LIGHT_TEXT = "#FFFFFF"


@dataclass(frozen=True, slots=True)
class MetricInfo:
    key: Metric
    label: str
    """What the value is, with its unit, as the legend and the tooltips say it."""
    format: Callable[[float], str]


def _ms(value: float) -> str:
    return f"{value:.3g} ms"


def _gmacs(value: float) -> str:
    return f"{value:.3g} GMAC/s"


METRIC_INFO: dict[Metric, MetricInfo] = {
    "params": MetricInfo("params", "parameters", lambda v: f"{format_count(v)} params"),
    "macs": MetricInfo("macs", "MACs per image", format_macs),
    "activations": MetricInfo("activations", "output bytes per image (float32)", format_bytes),
    "latency": MetricInfo("latency", "time per batch (profile median)", _ms),
    "gmacs": MetricInfo("gmacs", "achieved GMAC/s (profile)", _gmacs),
}


class ColourByError(ValueError):
    """A metric that cannot colour this diagram (a profile missing or of another spec)."""


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour_at(fraction: float) -> str:
    """The colour map's colour at ``fraction`` (0 darkest, 1 lightest), interpolated between stops."""
    fraction = min(1.0, max(0.0, fraction))
    position = fraction * (len(VIRIDIS) - 1)
    low = min(int(position), len(VIRIDIS) - 2)
    part = position - low
    a, b = _hex_rgb(VIRIDIS[low]), _hex_rgb(VIRIDIS[low + 1])
    mixed = (round(x + (y - x) * part) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{channel:02X}" for channel in mixed)


def text_colour(fill: str) -> str:
    """Dark text on a light fill, white on a dark one (relative luminance, sRGB)."""
    red, green, blue = (channel / 255 for channel in _hex_rgb(fill))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return DARK_TEXT if luminance > 0.45 else LIGHT_TEXT


def row_values(metric: Metric, rows: tuple[LayerRow, ...], profile: Profile | None) -> dict[int, float]:
    """The metric of every layer row that is not a container (whose value is its members')."""
    leaves = [row for row in rows if row.op not in CONTAINER_OPS]
    if metric == "params":
        return {row.index: float(row.params) for row in leaves}
    if metric == "macs":
        return {row.index: float(row.macs) for row in leaves}
    if metric == "activations":
        return {row.index: float(row.output_bytes) for row in leaves}
    if profile is None:
        raise ColourByError(f"colouring by {metric} needs a profile of this spec: run one first")
    times = profile.layer_times()
    if metric == "latency":
        return {row.index: times[row.index] * 1e3 for row in leaves}
    batch = profile.config.batch_size
    return {row.index: row.macs * batch / times[row.index] / 1e9 for row in leaves if times[row.index] > 0}


def rows_of_boxes(graph: ArchGraph) -> dict[str, tuple[int, ...]]:
    """The layer rows each box's value is made of (by node id): its own row, or every row
    it stands for.

    A block box stands for the whole block, as the layer table sums it: its add, its last
    activation and its shortcut's layers are drawn at its "+" and on the shortcut edge, but
    they are the block's. The "+" is the add and what follows it; the shortcut is its edge's.
    """
    owned: dict[str, list[int]] = {node.id: [] for node in graph.nodes}
    for index, owner in enumerate(graph.row_nodes):
        owned[owner].append(index)
    of_block: dict[str, list[int]] = {}
    for node in graph.nodes:
        if node.block_name is not None and node.row_index is None:
            of_block.setdefault(node.block_name, []).extend(owned[node.id])
    shortcut = {row for edge in graph.shortcut_edges() for row in edge.rows}
    rows: dict[str, tuple[int, ...]] = {}
    for node in graph.nodes:
        if node.row_index is not None:
            # A folded group's layer stands for the same layer of each of its blocks.
            rows[node.id] = node.rows or (node.row_index,)
        elif node.block_name is None:  # the stem, a stage, the head
            rows[node.id] = tuple(owned[node.id])
        elif node.kind == "block":
            rows[node.id] = tuple(sorted(of_block[node.block_name]))
        else:  # a block's "+"
            rows[node.id] = tuple(index for index in owned[node.id] if index not in shortcut)
    return rows


def node_rows(graph: ArchGraph, node: Node) -> tuple[int, ...]:
    """The layer rows one box's value is made of (see ``rows_of_boxes``)."""
    return rows_of_boxes(graph)[node.id]


def node_value(
    metric: Metric, rows: tuple[int, ...], values: dict[int, float], profile: Profile | None
) -> float | None:
    """The sum of the rows' values (GMAC/s: their MACs over their time); ``None`` without any."""
    present = [index for index in rows if index in values]
    if metric != "gmacs":
        return sum(values[index] for index in present) if present else None
    assert profile is not None
    timed = [profile.layers[index] for index in rows if profile.layers[index].leaf]
    seconds = sum(layer.time_s for layer in timed)
    macs = sum(layer.macs for layer in timed)
    if macs <= 0 or seconds <= 0:
        return None
    return macs * profile.config.batch_size / seconds / 1e9


@dataclass(frozen=True, slots=True)
class Colouring:
    """Each box's value and colour for one metric, and the scale they were drawn on."""

    metric: Metric
    values: dict[str, float]
    """By node id; a box without a value (the input, a step without MACs by GMAC/s) is absent."""
    low: float
    high: float
    log_scale: bool
    show_values: bool = False
    repeats: Mapping[str, int] = field(default_factory=dict)
    """By node id, the number of blocks a folded group's box stands for (more than 1)."""

    @property
    def info(self) -> MetricInfo:
        return METRIC_INFO[self.metric]

    @property
    def folded_words(self) -> str:
        """How a folded group's box is valued, in words ("" without any)."""
        if not self.repeats:
            return ""
        if self.metric in SUMMED_METRICS:
            return "a box marked \u00d7N holds the sum over its N blocks"
        return "a box marked \u00d7N holds its N blocks' MACs over their time"

    def fraction(self, value: float) -> float:
        """Where ``value`` sits on the scale, 0 to 1."""
        if self.log_scale:
            if value <= 0:
                return 0.0
            low = math.log10(self.low)
            span = math.log10(self.high) - low
            return (math.log10(value) - low) / span if span > 0 else 1.0
        span = self.high - self.low
        return (value - self.low) / span if span > 0 else 1.0

    def fill(self, node_id: str) -> str | None:
        value = self.values.get(node_id)
        return None if value is None else colour_at(self.fraction(value))

    def node_attrs(self, node_id: str) -> dict[str, str | float]:
        fill = self.fill(node_id)
        if fill is None:
            return {"fillcolor": UNCOLOURED_FILL}
        return {"fillcolor": fill, "fontcolor": text_colour(fill)}

    def value_text(self, node_id: str) -> str | None:
        value = self.values.get(node_id)
        if value is None:
            return None
        text = self.info.format(value)
        repeat = self.repeats.get(node_id, 1)
        if repeat > 1 and value:
            text += f" in all {repeat}" if self.metric in SUMMED_METRICS else f" over all {repeat}"
        return text

    def legend_html(self) -> str:
        """The scale as an HTML-like graphviz label: the metric, a strip of colours, its ends."""
        scale = "log scale" if self.log_scale else "linear scale"
        title = f"<b>colour: {escape(self.info.label)}</b> ({scale})"
        cells = "".join(
            f'<td bgcolor="{colour_at(i / (LEGEND_CELLS - 1))}" width="28" height="12" fixedsize="true"></td>'
            for i in range(LEGEND_CELLS)
        )
        low, high = (escape(self.info.format(value)) for value in (self.low, self.high))
        span = LEGEND_CELLS // 2
        folded = (
            f'<tr><td colspan="{LEGEND_CELLS}">{escape(self.folded_words)}</td></tr>' if self.repeats else ""
        )
        return (
            '<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
            f'<tr><td colspan="{LEGEND_CELLS}">{title}</td></tr>'
            f"<tr>{cells}</tr>"
            f'<tr><td colspan="{span}" align="left">{low}</td>'
            f'<td colspan="{LEGEND_CELLS - span}" align="right">{high}</td></tr>'
            f"{folded}"
            "</table>"
        )


def _scale(values: list[float]) -> tuple[float, float, bool]:
    if not values:
        return 0.0, 0.0, False
    positive = [value for value in values if value > 0]
    low, high = min(values), max(values)
    if positive and min(positive) > 0 and max(positive) / min(positive) > LOG_SCALE_RATIO:
        return min(positive), max(positive), True
    return low, high, False


def colour_graph(
    graph: ArchGraph, metric: Metric, profile: Profile | None = None, show_values: bool = False
) -> Colouring:
    """Every box of ``graph`` valued and coloured by ``metric``.

    Raises ``ColourByError`` for a profiled metric without a profile, or with one of another spec.
    """
    if metric not in METRICS:
        raise ColourByError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if metric in PROFILED_METRICS:
        if profile is None:
            raise ColourByError(f"colouring by {metric} needs a profile of this spec: run one first")
        if profile.spec != graph.spec:
            raise ColourByError(
                f"colouring by {metric} needs a profile of this spec; the one given is of another"
            )
    values = row_values(metric, analyze(graph.spec).rows, profile)
    rows = rows_of_boxes(graph)
    by_node: dict[str, float] = {}
    for node in graph.nodes:
        if node.kind == "input":
            continue
        value = node_value(metric, rows[node.id], values, profile)
        if value is not None:
            by_node[node.id] = value
    low, high, log_scale = _scale(list(by_node.values()))
    repeats = {node.id: node.repeat for node in graph.nodes if node.repeat > 1}
    return Colouring(metric, by_node, low, high, log_scale, show_values, repeats)


@dataclass(frozen=True, slots=True)
class ColourBy:
    """What to colour a diagram by: the metric, the profile a profiled one comes from, and
    whether each box also says its value."""

    metric: Metric
    profile: Profile | None = None
    show_values: bool = False

    def colouring(self, graph: ArchGraph) -> Colouring:
        return colour_graph(graph, self.metric, self.profile, self.show_values)


def node_metrics(graph: ArchGraph, node: Node, profile: Profile | None = None) -> list[tuple[str, str]]:
    """Every metric of a box, as (label, value text) pairs: the static ones, and the profiled
    ones when ``profile`` is of this spec (for tooltips)."""
    rows = analyze(graph.spec).rows
    metrics = STATIC_METRICS + (
        PROFILED_METRICS if profile is not None and profile.spec == graph.spec else ()
    )
    lines = []
    for metric in metrics:
        value = node_value(metric, node_rows(graph, node), row_values(metric, rows, profile), profile)
        if value is not None:
            lines.append((METRIC_INFO[metric].label, METRIC_INFO[metric].format(value)))
    return lines
