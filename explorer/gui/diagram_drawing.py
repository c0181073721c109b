"""Drawing a diagram for the viewer, all of it on a worker thread.

graphviz lays the graph out and writes SVG; ``QSvgRenderer`` parses it and gives
each node's and stage's box (the regions a click or a highlight needs), so the GUI
thread receives ready renderers and only has to paint. For cifar/resnet1202 at
layer level that is seconds of ``dot`` and a tenth of a second of parsing the GUI
thread never waits for.

A long drawing is cut into bands along its length, each band an SVG document of
only the elements that reach into it. Qt's SVG renderer walks its whole document
at every paint, so one document for a 1,200-layer network would cost a tenth of a
second per repaint; a band costs what the few dozen boxes in it cost.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtCore import QByteArray, QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from explorer.core.fold import Fold
from explorer.core.graph import ArchGraph, Level, graph_from_spec
from explorer.core.render.colour_by import ColourBy
from explorer.core.render.dot import Rankdir, Style, Wrap, graph_to_dot
from explorer.core.render.export import GraphvizNotFound, render
from explorer.core.render.page import choose_fold
from explorer.core.spec import ArchSpec

_GROUP = re.compile(rb'<g id="([^"]*)" class="(node|cluster)"')
# graphviz writes every node, edge and stage as one flat group.
_ELEMENT = re.compile(rb'<g id="([^"]*)" class="(?:node|edge|cluster)">.*?</g>\n?', re.DOTALL)
_BUCKET = 256.0  # scene units per bucket of the region index
# The overview's picture of the whole drawing, at most this many pixels across and along.
OVERVIEW_SIZE = (240, 720)
OVERVIEW_MIN_ACROSS = 72
BAND_LENGTH = 1500.0  # points along the drawing's length per band
_BAND_OVERLAP = 4.0  # an element's stroke and arrowhead may reach past its box


# "auto" folds where the unfolded figure would run past about two pages, as the CLI does.
FoldChoice = Literal["auto", "none", "repeats"]


@dataclass(frozen=True, slots=True)
class DiagramRequest:
    spec: ArchSpec
    level: Level = "block"
    style: Style = "paper"
    rankdir: Rankdir = "TB"
    colour_by: ColourBy | None = None
    fold: FoldChoice = "none"
    wrap: Wrap = "none"
    unfolded: frozenset[str] = frozenset()
    """Fold groups drawn block by block (ids of no group of the spec are ignored)."""

    def drawn_fold(self) -> Fold:
        """The fold drawn: "auto" settled by the figure's length, as the CLI settles it."""
        if self.fold != "auto":
            return self.fold
        return choose_fold(self.spec, self.level, self.style, self.rankdir).fold

    def graph(self) -> ArchGraph:
        return graph_from_spec(self.spec, self.level, self.drawn_fold(), self.unfolded)


@dataclass(frozen=True, slots=True)
class Region:
    """A drawn element's box in the SVG's own coordinates (points)."""

    id: str
    rect: QRectF
    round: bool = False  # drawn as a circle (a residual add)
    cluster: bool = False


@dataclass(eq=False)
class RegionIndex:
    """Finds the element under a point: a node (or tag, or caption) before its stage box."""

    regions: dict[str, Region]
    _buckets: dict[int, list[Region]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for region in self.regions.values():
            for bucket in self._span(region.rect):
                self._buckets.setdefault(bucket, []).append(region)

    @staticmethod
    def _span(rect: QRectF) -> range:
        return range(int(rect.top() // _BUCKET), int(rect.bottom() // _BUCKET) + 1)

    def at(self, x: float, y: float) -> Region | None:
        hits = [r for r in self._buckets.get(int(y // _BUCKET), ()) if r.rect.contains(x, y)]
        if not hits:
            return None
        # Nodes lie inside stage boxes: the smallest box under the point is the one meant.
        return min(hits, key=lambda r: (r.cluster, r.rect.width() * r.rect.height()))

    def __iter__(self) -> Iterator[Region]:
        return iter(self.regions.values())

    def __len__(self) -> int:
        return len(self.regions)


@dataclass(frozen=True, slots=True)
class Band:
    """A slice of the drawing and the renderer of the elements that reach into it."""

    rect: QRectF
    renderer: QSvgRenderer


@dataclass(eq=False)
class Drawing:
    """A laid-out diagram, ready to show: the graph, its SVG, its bands and the regions."""

    request: DiagramRequest
    graph: ArchGraph
    svg: bytes
    bounds: QRectF
    bands: tuple[Band, ...]
    regions: RegionIndex
    warnings: tuple[str, ...] = ()
    overview: QImage | None = None
    """The whole drawing, small: the picture the view's overview shows."""

    @property
    def node_regions(self) -> list[Region]:
        """The regions of the graph's own nodes (not tags, captions or stages)."""
        ids = {node.id for node in self.graph.nodes}
        return [region for region in self.regions if region.id in ids]


@dataclass(frozen=True, slots=True)
class GraphvizMissing:
    """``dot`` is not installed: the message says how to install it."""

    request: DiagramRequest
    message: str


def draw(request: DiagramRequest) -> Drawing | GraphvizMissing:
    """Lay out and parse ``request``'s diagram (runs on a worker thread)."""
    graph = request.graph()
    try:
        colouring = request.colour_by.colouring(graph) if request.colour_by is not None else None
        dot_text = graph_to_dot(graph, request.style, request.rankdir, colouring, request.wrap)
        rendered = render(dot_text, "svg")
    except GraphvizNotFound as exc:
        return GraphvizMissing(request, str(exc))
    renderer = QSvgRenderer(QByteArray(rendered.data))
    if not renderer.isValid():
        raise ValueError("graphviz wrote an SVG that could not be read")
    box_of = _element_boxes(renderer)
    regions = _regions(rendered.data, box_of, graph)
    size = renderer.defaultSize()
    bounds = QRectF(0, 0, size.width(), size.height())
    overview = _overview(renderer, bounds)  # before the renderer moves to the GUI thread
    bands = _bands(rendered.data, renderer, bounds, box_of)
    app = QCoreApplication.instance()
    if app is not None:
        for band in bands:  # made here, used by the GUI thread from now on
            band.renderer.moveToThread(app.thread())
    return Drawing(
        request, graph, rendered.data, bounds, bands, RegionIndex(regions), rendered.warnings, overview
    )


def _overview(renderer: QSvgRenderer, bounds: QRectF) -> QImage:
    """The whole drawing within ``OVERVIEW_SIZE`` (painted here, off the GUI thread)."""
    scale = min(OVERVIEW_SIZE[0] / max(bounds.width(), 1.0), OVERVIEW_SIZE[1] / max(bounds.height(), 1.0))
    # A long drawing is stretched across, as the view's overview shows it: not a sliver.
    width = max(OVERVIEW_MIN_ACROSS, round(bounds.width() * scale))
    height = max(OVERVIEW_MIN_ACROSS, round(bounds.height() * scale))
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(Qt.GlobalColor.white))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, width, height))
    painter.end()
    return image


def _element_boxes(renderer: QSvgRenderer):  # type: ignore[no-untyped-def]
    """A function from an element's id to its box in the drawing's coordinates (or None)."""
    view_box = renderer.viewBoxF()
    size = renderer.defaultSize()
    sx = size.width() / view_box.width() if view_box.width() else 1.0
    sy = size.height() / view_box.height() if view_box.height() else 1.0

    def box_of(element: str) -> QRectF | None:
        if not renderer.elementExists(element):
            return None
        box = renderer.transformForElement(element).mapRect(renderer.boundsOnElement(element))
        return QRectF(
            (box.x() - view_box.x()) * sx, (box.y() - view_box.y()) * sy, box.width() * sx, box.height() * sy
        )

    return box_of


def _regions(svg: bytes, box_of, graph: ArchGraph) -> dict[str, Region]:  # type: ignore[no-untyped-def]
    adds = {node.id for node in graph.nodes if node.op == "add"}
    regions: dict[str, Region] = {}
    for match in _GROUP.finditer(svg):
        element = html.unescape(match.group(1).decode("utf-8"))
        box = box_of(element)
        if box is not None:
            regions[element] = Region(element, box, element in adds, match.group(2) == b"cluster")
    return regions


def _bands(svg: bytes, renderer: QSvgRenderer, bounds: QRectF, box_of) -> tuple[Band, ...]:  # type: ignore[no-untyped-def]
    """The drawing cut across its length; one band (the whole document) when it is short."""
    vertical = bounds.height() >= bounds.width()
    length = bounds.height() if vertical else bounds.width()
    count = math.ceil(length / BAND_LENGTH)
    elements = list(_ELEMENT.finditer(svg))
    if count <= 1 or not elements:
        return (Band(bounds, renderer),)
    head, tail = svg[: elements[0].start()], svg[elements[-1].end() :]
    parts: list[list[bytes]] = [[] for _ in range(count)]
    for match in elements:
        box = box_of(html.unescape(match.group(1).decode("utf-8")))
        if box is None:
            first, last = 0, count - 1  # unknown extent: drawn in every band
        else:
            start, end = (box.top(), box.bottom()) if vertical else (box.left(), box.right())
            first = max(0, int((start - _BAND_OVERLAP) // BAND_LENGTH))
            last = min(count - 1, int((end + _BAND_OVERLAP) // BAND_LENGTH))
        for index in range(first, last + 1):
            parts[index].append(match.group(0))
    bands = []
    for index, chunk in enumerate(parts):
        offset = index * BAND_LENGTH
        if vertical:
            rect = QRectF(bounds.left(), offset, bounds.width(), min(BAND_LENGTH, length - offset))
        else:
            rect = QRectF(offset, bounds.top(), min(BAND_LENGTH, length - offset), bounds.height())
        bands.append(Band(rect, QSvgRenderer(QByteArray(head + b"".join(chunk) + tail))))
    return tuple(bands)
