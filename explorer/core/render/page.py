"""How big a diagram comes out: its length estimated before drawing, and fitting it to a page.

``estimated_length`` adds up the boxes along the longest path of the graph as dot sizes them
(their text, margins and the space between ranks) and the clusters' margins: within about 10%
of what dot draws, at no cost beside drawing. ``choose_fold`` folds a diagram that would run
past about two pages. ``render_on_page`` scales an SVG or PDF to a page's text width and
refuses one whose smallest text would end up too small to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree

from explorer.core.fold import Fold
from explorer.core.graph import ArchGraph, Level, Node, graph_from_spec
from explorer.core.ops import declared
from explorer.core.render.dot import (
    CAPTION,
    EDGE_DEFAULTS,
    GRAPH_ATTRS,
    NODE_DEFAULTS,
    Rankdir,
    Style,
    Wrap,
    merge_sign,
    shape_text,
)
from explorer.core.render.export import Format, GraphvizFailed, Rendered, render
from explorer.core.spec import ArchSpec

POINTS_PER_INCH = 72.0
A4_HEIGHT_PT = 842.0
# "About two pages": past this, a diagram is folded unless asked otherwise.
TWO_PAGES_PT = 2 * A4_HEIGHT_PT
# Text below this size cannot be read on paper.
MIN_TEXT_PT = 6.0

# dot's sizes: a line of text is 1.2 times its font size; Helvetica's average character about
# 0.55 of it. Boxes hold their text within margins and are at least their default size.
_LINE = 1.2
_CHARACTER = 0.55
_FACTS_SIZE = 8.0
_THIN_HEIGHT_IN = 0.3
_CIRCLE_IN = 0.3
_MIN_WIDTH_IN = 0.75
_CLUSTER_MARGIN_PT = 16.0

Page = Literal["a4", "letter"]
PAGES: tuple[Page, ...] = ("a4", "letter")


@dataclass(frozen=True, slots=True)
class PageSize:
    name: str
    text_width_pt: float
    """The width a figure takes on the page: the paper's less its side margins."""
    margins: str


PAGE_SIZES: dict[Page, PageSize] = {
    "a4": PageSize("A4", 160 / 25.4 * POINTS_PER_INCH, "210 mm less 25 mm margins"),
    "letter": PageSize("Letter", 6.5 * POINTS_PER_INCH, "8.5 in less 1 in margins"),
}


def _texts(node: Node, style: Style) -> list[tuple[str, float]]:
    """The lines of a node's label with their font sizes."""
    size = float(NODE_DEFAULTS["fontsize"])
    if node.kind == "input":
        return [("input", size), (shape_text(node.output_shape), size)]
    lines = list(node.lines)
    if style == "paper":
        if node.kind == "stage":
            lines[0] = f"{node.name}: {lines[0]}"
        return [(line, size) for line in lines]
    each = " each" if node.repeat > 1 else ""
    facts = shape_text(node.output_shape) + (f", {node.params:,} params{each}" if node.params else "")
    return [(node.name, size), *((line, size) for line in lines), (facts, _FACTS_SIZE)]


def _extent(node: Node, style: Style, rankdir: Rankdir) -> float:
    """How far a node reaches along the flow: its height top to bottom, its width left to right."""
    if merge_sign(node):
        return _CIRCLE_IN * POINTS_PER_INCH
    texts = _texts(node, style)
    margin_x, margin_y = (float(part) * POINTS_PER_INCH for part in str(NODE_DEFAULTS["margin"]).split(","))
    if rankdir == "TB":
        rule = declared(node.op)
        least = (
            _THIN_HEIGHT_IN if rule is not None and rule.drawn == "thin" else float(NODE_DEFAULTS["height"])
        )
        return max(sum(size * _LINE for _, size in texts) + 2 * margin_y, least * POINTS_PER_INCH)
    widest = max(len(text) * size * _CHARACTER for text, size in texts)
    return max(widest + 2 * margin_x, _MIN_WIDTH_IN * POINTS_PER_INCH)


def estimated_length(graph: ArchGraph, style: Style = "paper", rankdir: Rankdir = "TB") -> float:
    """About how long (pt) dot draws ``graph`` along its flow, unwrapped: its height top to
    bottom, its width left to right."""
    between = float(GRAPH_ATTRS["ranksep"]) * POINTS_PER_INCH
    inputs: dict[str, list[str]] = {}
    for edge in graph.edges:
        inputs.setdefault(edge.target, []).append(edge.source)
    reach: dict[str, float] = {}
    for node in graph.nodes:  # in the order of the forward pass: every input comes first
        before = max((reach[source] for source in inputs.get(node.id, ()) if source in reach), default=0.0)
        reach[node.id] = before + _extent(node, style, rankdir) + between
    return max(reach.values()) + _CLUSTER_MARGIN_PT * len(graph.clusters)


@dataclass(frozen=True, slots=True)
class FoldChoice:
    fold: Fold
    unfolded_length: float
    """About how long the diagram would be unfolded (pt)."""

    def reason(self) -> str:
        """Why this fold was chosen: "folded by default, as unfolded it would be about ..."."""
        length = (
            f"about {self.unfolded_length:,.0f} pt long ({self.unfolded_length / A4_HEIGHT_PT:.1f} A4 pages)"
        )
        if self.fold == "repeats":
            return f"folded by default, as unfolded it would be {length}"
        return f"not folded by default, as it is {length}"


def choose_fold(spec: ArchSpec, level: Level, style: Style = "paper", rankdir: Rankdir = "TB") -> FoldChoice:
    """Fold the repeated blocks of a diagram that would run past about two pages unfolded."""
    length = estimated_length(graph_from_spec(spec, level), style, rankdir)
    return FoldChoice("repeats" if length > TWO_PAGES_PT and level != "stage" else "none", length)


class PageFitError(ValueError):
    """A figure whose smallest text would be too small on the page; the message says why and
    what to try."""


_FONT_SIZES = re.compile(r'(?:fontsize=|point-size=")(\d+(?:\.\d+)?)')


def smallest_text(dot_text: str) -> float:
    """The smallest font size (pt) the DOT text draws with."""
    sizes = [float(size) for size in _FONT_SIZES.findall(dot_text)]
    defaults = (
        NODE_DEFAULTS["fontsize"],
        EDGE_DEFAULTS["fontsize"],
        GRAPH_ATTRS["fontsize"],
        CAPTION["fontsize"],
    )
    return min([*sizes, *(float(size) for size in defaults)])


def _svg_size(svg: bytes) -> tuple[float, float]:
    root = ElementTree.fromstring(svg)
    width, height = (root.get(side, "").removesuffix("pt") for side in ("width", "height"))
    try:
        return float(width), float(height)
    except ValueError:
        raise GraphvizFailed(
            f"'dot' drew an SVG without its size in points ({width!r} x {height!r})"
        ) from None


_SVG_SIZE = re.compile(rb'<svg width="[^"]*" height="[^"]*"')


@dataclass(frozen=True, slots=True)
class OnPage:
    """A figure fitted to a page: what was drawn and by how much it was scaled."""

    rendered: Rendered
    page: Page
    scale: float
    width_pt: float
    height_pt: float
    smallest_text_pt: float

    def describe(self) -> str:
        return (
            f"{PAGE_SIZES[self.page].name} text width: scaled to {self.scale:.0%}, "
            f"{self.width_pt:.0f} x {self.height_pt:,.0f} pt, smallest text {self.smallest_text_pt:.1f} pt"
        )


def render_on_page(dot_text: str, fmt: Format, page: Page, suggestions: tuple[str, ...] = ()) -> OnPage:
    """``dot_text`` drawn as SVG or PDF at the text width of ``page``.

    Raises ``PageFitError`` (naming ``suggestions``, the options that would narrow the figure)
    where its smallest text would come out under ``MIN_TEXT_PT``.
    """
    if fmt not in ("svg", "pdf"):
        raise ValueError(f"a page fits SVG or PDF, not {fmt}")
    size = PAGE_SIZES[page]
    natural = render(dot_text, "svg")
    width, height = _svg_size(natural.data)
    scale = size.text_width_pt / width
    smallest = smallest_text(dot_text) * scale
    if smallest < MIN_TEXT_PT:
        hint = f": try {', '.join(suggestions)}" if suggestions else ""
        raise PageFitError(
            f"at {size.name} text width ({size.text_width_pt:.0f} pt) the {width:,.0f} pt wide figure "
            f"would be scaled to {scale:.0%}, its smallest text to {smallest:.1f} pt, under "
            f"{MIN_TEXT_PT:g} pt{hint}"
        )
    fitted_width, fitted_height = size.text_width_pt, height * scale
    if fmt == "svg":
        # The drawing keeps its own coordinates (its viewBox); only its size on the page changes.
        sized = f'<svg width="{fitted_width:.2f}pt" height="{fitted_height:.2f}pt"'.encode()
        data = _SVG_SIZE.sub(sized, natural.data, count=1)
        rendered = Rendered(fmt, data, natural.warnings)
    else:
        # With "!", dot scales the drawing up or down until its width is the page's (the
        # height given is out of reach); no margin, so the page holds the drawing alone.
        wide = f"{fitted_width / POINTS_PER_INCH:.4f},{fitted_height / POINTS_PER_INCH * 2 + 1:.4f}!"
        rendered = render(_with_graph_attrs(dot_text, size=wide, margin="0"), fmt)
    return OnPage(rendered, page, scale, fitted_width, fitted_height, smallest)


def _with_graph_attrs(dot_text: str, **attrs: str) -> str:
    """``dot_text`` with graph attributes set after its first line (the graph's opening)."""
    head, _, rest = dot_text.partition("\n")
    extra = "".join(f'  graph [{key}="{value}"];\n' for key, value in attrs.items())
    return f"{head}\n{extra}{rest}"


def narrowing_options(
    level: Level, style: Style, rankdir: Rankdir, fold: Fold, wrap: Wrap
) -> tuple[str, ...]:
    """The diagram options that would narrow a figure drawn with these (for a refusal)."""
    options = []
    if fold == "none" and level != "stage":
        options.append("--fold repeats")
    if wrap == "stages" and rankdir == "TB":
        options.append("--wrap none (stages side by side are wide)")
    if wrap == "none" and rankdir == "LR":
        options.append("--wrap stages")
    if rankdir == "LR":
        options.append("--rankdir TB")
    if style == "detailed":
        options.append("--style paper")
    if level != "stage":
        options.append(f"a coarser level (--level {'block' if level == 'layer' else 'stage'})")
    return tuple(options)
