"""Drawing a diagram for the viewer, all of it on a worker thread.

graphviz lays the graph out and writes SVG; ``QSvgRenderer`` parses it and gives
each node's and stage's box (the regions a click or a highlight needs), so the GUI
thread receives a ready renderer and only has to paint. For cifar/resnet1202 at
layer level that is seconds of ``dot`` and a tenth of a second of parsing the GUI
thread never waits for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from PySide6.QtCore import QByteArray, QCoreApplication, QRectF
from PySide6.QtSvg import QSvgRenderer

from explorer.core.graph import ArchGraph, Level, graph_from_spec
from explorer.core.render.dot import Rankdir, Style, graph_to_dot
from explorer.core.render.export import GraphvizNotFound, render
from explorer.core.spec import ArchSpec

_GROUP = re.compile(rb'<g id="([^"]*)" class="(node|cluster)"')
_BUCKET = 256.0  # scene units per bucket of the region index


@dataclass(frozen=True, slots=True)
class DiagramRequest:
    spec: ArchSpec
    level: Level = "block"
    style: Style = "paper"
    rankdir: Rankdir = "TB"


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


@dataclass(eq=False)
class Drawing:
    """A laid-out diagram, ready to show: the graph, its SVG, a renderer and the regions."""

    request: DiagramRequest
    graph: ArchGraph
    svg: bytes
    renderer: QSvgRenderer
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
        rendered = render(graph_to_dot(graph, request.style, request.rankdir), "svg")
    except GraphvizNotFound as exc:
        return GraphvizMissing(request, str(exc))
    renderer = QSvgRenderer(QByteArray(rendered.data))
    if not renderer.isValid():
        raise ValueError("graphviz wrote an SVG that could not be read")
    regions = _regions(rendered.data, renderer, graph)
    app = QCoreApplication.instance()
    if app is not None:
        # Made here, used by the GUI thread from now on.
        renderer.moveToThread(app.thread())
    return Drawing(request, graph, rendered.data, renderer, RegionIndex(regions), rendered.warnings)


def _regions(svg: bytes, renderer: QSvgRenderer, graph: ArchGraph) -> dict[str, Region]:
    view_box = renderer.viewBoxF()
    size = renderer.defaultSize()
    sx = size.width() / view_box.width() if view_box.width() else 1.0
    sy = size.height() / view_box.height() if view_box.height() else 1.0
    adds = {node.id for node in graph.nodes if node.op == "add"}
    regions: dict[str, Region] = {}
    for match in _GROUP.finditer(svg):
        element = html.unescape(match.group(1).decode("utf-8"))
        if not renderer.elementExists(element):
            continue
        box = renderer.transformForElement(element).mapRect(renderer.boundsOnElement(element))
        box = QRectF(
            (box.x() - view_box.x()) * sx, (box.y() - view_box.y()) * sy, box.width() * sx, box.height() * sy
        )
        regions[element] = Region(element, box, element in adds, match.group(2) == b"cluster")
    return regions
