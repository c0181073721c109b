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

from PySide6.QtCore import QByteArray, QCoreApplication, QRectF
from PySide6.QtSvg import QSvgRenderer

from explorer.core.graph import ArchGraph, Level, graph_from_spec
from explorer.core.render.colour_by import ColourBy
from explorer.core.render.dot import Rankdir, Style, graph_to_dot
from explorer.core.render.export import GraphvizNotFound, render
from explorer.core.spec import ArchSpec

_GROUP = re.compile(rb'<g id="([^"]*)" class="(node|cluster)"')
# graphviz writes every node, edge and stage as one flat group.
_ELEMENT = re.compile(rb'<g id="([^"]*)" class="(?:node|edge|cluster)">.*?</g>\n?', re.DOTALL)
_BUCKET = 256.0  # scene units per bucket of the region index
BAND_LENGTH = 1500.0  # points along the drawing's length per band
_BAND_OVERLAP = 4.0  # an element's stroke and arrowhead may reach past its box


@dataclass(frozen=True, slots=True)
class DiagramRequest:
    spec: ArchSpec
    level: Level = "block"
    style: Style = "paper"
    rankdir: Rankdir = "TB"
    colour_by: ColourBy | None = None


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
    graph = graph_from_spec(request.spec, request.level)
    try:
        colouring = request.colour_by.colouring(graph) if request.colour_by is not None else None
        rendered = render(graph_to_dot(graph, request.style, request.rankdir, colouring), "svg")
    except GraphvizNotFound as exc:
        return GraphvizMissing(request, str(exc))
    renderer = QSvgRenderer(QByteArray(rendered.data))
    if not renderer.isValid():
        raise ValueError("graphviz wrote an SVG that could not be read")
    box_of = _element_boxes(renderer)
    regions = _regions(rendered.data, box_of, graph)
    size = renderer.defaultSize()
    bounds = QRectF(0, 0, size.width(), size.height())
    bands = _bands(rendered.data, renderer, bounds, box_of)
    app = QCoreApplication.instance()
    if app is not None:
        for band in bands:  # made here, used by the GUI thread from now on
            band.renderer.moveToThread(app.thread())
    return Drawing(request, graph, rendered.data, bounds, bands, RegionIndex(regions), rendered.warnings)


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
