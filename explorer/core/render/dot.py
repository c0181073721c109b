"""ArchGraph -> DOT text for graphviz.

Two styles: ``paper`` draws boxes in the words of the ResNet paper's Figure 3
("3x3 conv, 64", "/2" when strided) and ``detailed`` adds each node's name,
output shape and parameter count. Stages are coloured clusters; identity
shortcuts are solid and projection shortcuts dashed and labelled, as in the paper;
an attention branch is dotted grey into the multiply that rejoins it (drawn as a circled x).

At the layer level each block's layers sit in a thin box named by the block. A folded group
(see ``explorer.core.fold``) is drawn once in a bold box with its repeat mark ``×N``; a group
drawn block by block sits in a dashed box that names it. With ``wrap="stages"`` each stage is a
column of its own (a row, left to right), the columns joined by the edges into the next stage.

The text depends only on the graph and the options (no dict order, no ids drawn
from memory), so equal inputs give equal bytes and golden files can hold it.
Every node's DOT name and ``id`` attribute is its graph id, so the SVG's
``<g id=...>`` and ``<title>`` map clicks back to nodes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Literal

from explorer.core.graph import ArchGraph, Cluster, Edge, Node
from explorer.core.ops import declared
from explorer.core.render.colour_by import LEGEND_ID, Colouring

Style = Literal["paper", "detailed"]
STYLES: tuple[Style, ...] = ("paper", "detailed")
Rankdir = Literal["TB", "LR"]
RANKDIRS: tuple[Rankdir, ...] = ("TB", "LR")
Wrap = Literal["none", "stages"]
WRAPS: tuple[Wrap, ...] = ("none", "stages")

FONT = "Helvetica"
INK = "#222222"
SHORTCUT_INK = "#555555"
PROJECTION_INK = "#B03A2E"
BRANCH_INK = "#888888"
OUTSIDE_FILL = "#F2F2F2"
FACTS_INK = "#444444"

# Per stage: (cluster fill, node fill, border). Pale enough for black text, apart
# enough that neighbouring stages read as different colours.
STAGE_COLOURS = (
    ("#EEF4FB", "#D5E5F5", "#5B8DB8"),
    ("#FDF4E8", "#F8DEBD", "#C08A45"),
    ("#EEF7EE", "#D4EBD4", "#5E9E5E"),
    ("#F5F0F9", "#E3D6EF", "#8A6AA8"),
    ("#FBEFEF", "#F3D5D5", "#B86060"),
    ("#ECF6F6", "#CEE8E8", "#4E9A9A"),
)

GRAPH_ATTRS: dict[str, str | float] = {
    "newrank": "true",
    "ranksep": 0.22,
    "fontname": FONT,
    "fontsize": 11,
}
NODE_DEFAULTS: dict[str, str | float] = {
    "shape": "box",
    "style": "filled",
    "fillcolor": OUTSIDE_FILL,
    "color": INK,
    "fontname": FONT,
    "fontsize": 10,
    "height": 0.36,
    "margin": "0.12,0.04",
    "penwidth": 1,
}
CAPTION: dict[str, str | float] = {"shape": "plaintext", "style": "", "fontsize": 11, "margin": 0}
TAG_ATTRS: dict[str, str | float] = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": "white",
    "color": PROJECTION_INK,
    "fontcolor": PROJECTION_INK,
    "penwidth": 1,
    "fontsize": 9,
    "height": 0.2,
    "margin": "0.06,0.02",
}
EDGE_DEFAULTS: dict[str, str | float] = {"color": INK, "arrowsize": 0.6, "fontname": FONT, "fontsize": 9}
# The boxes inside a stage: a block's (layer level), a folded group's, an unfolded group's.
BLOCK_BOX: dict[str, str | float] = {"style": "rounded", "penwidth": 0.7, "fontsize": 9, "labeljust": "l"}
FOLDED_BOX: dict[str, str | float] = {
    "style": "rounded,filled",
    "fillcolor": "white",
    "penwidth": 2.2,
    "fontsize": 9,
    "labeljust": "r",
}
UNFOLDED_BOX: dict[str, str | float] = {
    "style": "dashed,rounded",
    "penwidth": 1.2,
    "fontsize": 9,
    "labeljust": "r",
}
REPEAT_MARK_SIZE = 16

# Top to bottom, room beside the main column keeps shortcuts clear of cluster
# borders; left to right that room would only stretch the clusters' height.
_NODESEP = {"TB": 0.5, "LR": 0.3}

# The shortcut leaves and enters on the side, so it runs beside the main column
# instead of through it (compass points are taken before rankdir rotates them).
_SHORTCUT_PORT = {"TB": "e", "LR": "s"}


_LINE_BREAK = re.compile(r"\r\n?|\n")
# XML (the SVG graphviz writes) cannot hold these, and graphviz refuses them in labels.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_REPLACEMENT = "\ufffd"


def _printable(text: str) -> str:
    return _CONTROL.sub(_REPLACEMENT, text)


def quote(text: str) -> str:
    """A DOT double-quoted string that graphviz draws as written.

    Line breaks become centred ``\\n`` breaks and control characters a replacement mark;
    ``&`` is written as an entity because graphviz decodes entities in labels and ids.
    """
    escaped = _printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    return '"' + _LINE_BREAK.sub("\\\\n", escaped) + '"'


def html_text(text: str) -> str:
    """``text`` inside an HTML-like label: markup escaped, line breaks as ``<br/>``."""
    return "<br/>".join(escape(line) for line in _LINE_BREAK.split(_printable(text)))


class LeftAligned(str):
    """A label whose lines graphviz aligns to the left (each ends in ``\\l``)."""


class Html(str):
    """An HTML-like graphviz label, written between angle brackets."""


def _value(value: str | float) -> str:
    if isinstance(value, Html):
        return f"<{value}>"
    if isinstance(value, LeftAligned):
        lines = _LINE_BREAK.split(value)
        return '"' + "".join(quote(line)[1:-1] + "\\l" for line in lines) + '"'
    if isinstance(value, str):
        return quote(value)
    return f"{value:g}"


def _attrs(pairs: Mapping[str, str | float]) -> str:
    parts = []
    for key, value in pairs.items():
        text = _value(value)
        parts.append(f"{key}={text}")
    return "[" + ", ".join(parts) + "]"


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def merge_sign(node: Node) -> str:
    """The sign of a step that merges two tensors, drawn as a circle holding it ("" else)."""
    rule = declared(node.op)
    return rule.merge_sign if rule is not None and rule.drawn == "merge" else ""


def node_label(node: Node, style: Style) -> str:
    """The text in the node's box; the detailed style's is an HTML-like label."""
    if node.kind == "input":
        return f"input\n{shape_text(node.output_shape)}"
    if merge_sign(node):
        return merge_sign(node)
    lines = list(node.lines)
    if style == "paper":
        if node.kind == "stage":
            lines[0] = f"{node.name}: {lines[0]}"
        return "\n".join(lines)
    facts = shape_text(node.output_shape)
    if node.params and node.repeat > 1:
        # Alike blocks hold alike layers: one's share is the box's figure, as drawn once.
        facts += f", {node.params // node.repeat:,} params each"
    elif node.params:
        facts += f", {node.params:,} params"
    rows = [f"<b>{html_text(node.name)}</b>", *(html_text(line) for line in lines)]
    rows.append(f'<font point-size="8" color="{FACTS_INK}">{html_text(facts)}</font>')
    return Html("<br/>".join(rows))


def _with_value(label: str, value: str) -> str:
    if isinstance(label, Html):
        return Html(f'{label}<br/><font point-size="8">{html_text(value)}</font>')
    return f"{label}\n{value}"


def _node_attrs(node: Node, style: Style, colouring: Colouring | None = None) -> dict[str, str | float]:
    attrs: dict[str, str | float] = {"id": node.id, "label": node_label(node, style)}
    if node.stage is not None:
        _, fill, border = STAGE_COLOURS[node.stage % len(STAGE_COLOURS)]
        attrs["fillcolor"] = fill
        attrs["color"] = border
    if colouring is not None and node.kind != "input":
        attrs.update(colouring.node_attrs(node.id))
        value = colouring.value_text(node.id)
        if colouring.show_values and value is not None and not merge_sign(node):
            label = attrs["label"]
            assert isinstance(label, str)
            attrs["label"] = _with_value(label, value)
    if merge_sign(node):
        attrs.update(shape="circle", width=0.3, fixedsize="true", fontsize=14)
    elif (rule := declared(node.op)) is not None and rule.drawn == "thin":
        attrs["height"] = 0.3
    if node.kind == "input":
        attrs.update(shape="box", style="rounded,filled", fillcolor="white")
    return attrs


def _edge_attrs(edge: Edge, rankdir: Rankdir) -> dict[str, str | float]:
    attrs: dict[str, str | float] = {"id": edge.id}
    if edge.kind == "main":
        attrs["weight"] = 1000
        return attrs
    if edge.kind == "branch":
        attrs.update(style="dotted", color=BRANCH_INK, penwidth=1.4, weight=1)
        return attrs
    port = _SHORTCUT_PORT[rankdir]
    attrs.update(tailport=port, headport=port, weight=1)
    if edge.kind == "identity":
        attrs.update(color=SHORTCUT_INK, penwidth=1.2)
    else:
        attrs.update(style="dashed", color=PROJECTION_INK, penwidth=1.4)
    return attrs


def projection_label(edge: Edge, style: Style) -> str:
    if style == "detailed" and edge.params:
        return f"{edge.label} + BN\n{edge.params:,} params"
    return edge.label


def _projection_lines(edge: Edge, style: Style, rankdir: Rankdir, loose: bool = False) -> list[str]:
    """A projection drawn as source -> labelled tag -> add.

    An edge label would double the ranks of the whole layout (three times slower
    in dot) and a floating ``xlabel`` may land on another edge; a small node on
    the shortcut's own path does neither.
    """
    tag = f"{edge.id}:label"
    attrs = _edge_attrs(edge, rankdir)
    tail = {key: value for key, value in attrs.items() if key != "headport"}
    tail.update(id=f"{edge.id}:tail", arrowhead="none")
    if loose:
        tail["constraint"] = "false"
    head = {key: value for key, value in attrs.items() if key != "tailport"}
    return [
        f"  {quote(edge.source)} -> {quote(tag)} {_attrs(tail)};",
        f"  {quote(tag)} -> {quote(edge.target)} {_attrs(head)};",
    ]


def _tag_line(edge: Edge, style: Style) -> str:
    tag = f"{edge.id}:label"
    return f"  {quote(tag)} {_attrs({'id': tag, 'label': projection_label(edge, style), **TAG_ATTRS})};"


def repeat_mark(repeat: int) -> str:
    return f"\u00d7{repeat}"


def _box_attrs(cluster: Cluster, wrap: Wrap) -> dict[str, str | float]:
    """A stage's coloured box, or a block's, a folded group's or an unfolded group's in it."""
    background, _, border = STAGE_COLOURS[cluster.stage % len(STAGE_COLOURS)]
    if cluster.kind == "stage":
        attrs: dict[str, str | float] = {
            "style": "filled,rounded",
            "fillcolor": background,
            "color": border,
            "id": cluster.id,
        }
        if wrap == "stages":
            # Atop its column, the stage's name widens no column.
            attrs.update(label=LeftAligned(cluster.label), labeljust="l", fontsize=CAPTION["fontsize"])
        return attrs
    attrs = {"id": cluster.id, "color": border}
    if cluster.kind == "folded":
        mark = f'<font point-size="{REPEAT_MARK_SIZE}"><b>{repeat_mark(cluster.repeat)}</b></font>'
        attrs.update(FOLDED_BOX, label=Html(f"{html_text(cluster.label)}  {mark}"), fontcolor=INK)
    elif cluster.kind == "unfolded":
        words = f"{cluster.label}: {repeat_mark(cluster.repeat)}, drawn one by one"
        attrs.update(UNFOLDED_BOX, label=Html(html_text(words)), fontcolor=FACTS_INK)
    else:
        attrs.update(BLOCK_BOX, label=cluster.label, fontcolor=FACTS_INK)
    return attrs


@dataclass(frozen=True, slots=True)
class _Drawing:
    graph: ArchGraph
    style: Style
    rankdir: Rankdir
    wrap: Wrap
    node_lines: dict[str, str]
    held: dict[str, list[Edge]]
    """Projections whose tags a cluster holds beside its first node, by the cluster's id."""
    children: dict[str, list[Cluster]]
    """The boxes each box holds, by its id."""

    def cluster_lines(self, cluster: Cluster) -> list[str]:
        """A cluster with its nodes and, where it reaches their first node, the boxes it holds."""
        inner = self.children.get(cluster.id, [])
        box_of = {node_id: child for child in inner for node_id in child.node_ids}
        body: list[str] = []
        written: set[str] = set()
        for node_id in cluster.node_ids:
            child = box_of.get(node_id)
            if child is None:
                body.append(self.node_lines[node_id])
            elif child.id not in written:
                written.add(child.id)
                body.extend(self.cluster_lines(child))
        held = self.held.get(cluster.id, [])
        body.extend(_tag_line(edge, self.style) for edge in held)
        row = [f"{edge.id}:label" for edge in held]
        if cluster.kind == "stage" and self.wrap == "none":
            # The stage's name stands beside its first node, away from the main edge
            # that enters the cluster and from the shortcuts on the other side.
            caption = f"{cluster.id}:caption"
            attrs = {"id": caption, "label": LeftAligned(cluster.label), **CAPTION}
            body.append(f"  {quote(caption)} {_attrs(attrs)};")
            row.insert(0, caption)
        if row:
            row.insert(1 if cluster.kind == "stage" and self.wrap == "none" else 0, cluster.node_ids[0])
            if self.rankdir == "LR":
                # Rotated, the order within a rank runs bottom to top: keep the caption on top.
                row.reverse()
            chain = " -> ".join(quote(item) for item in row)
            body.append(f'  {{rank=same; {chain} [style="invis"];}}')
        return [
            f"  subgraph {quote(cluster.id)} {{",
            f"    graph {_attrs(_box_attrs(cluster, self.wrap))};",
            *(f"  {line}" for line in body),
            "  }",
        ]


_DRAWN_PARTS = (":label", ":tail", ":caption")


def element_target(graph: ArchGraph, element_id: str) -> Node | Edge | Cluster | None:
    """What an element of the drawing stands for, from its SVG ``id``.

    A node's id is its graph id; an edge's is ``Edge.id``; a projection's tag and
    first half (``shortcut:layer2.0:label``, ``...:tail``) give its shortcut edge; a
    stage's box and caption (``cluster_layer2``, ``...:caption``) give its cluster.
    """
    targets: dict[str, Node | Edge | Cluster] = {cluster.id: cluster for cluster in graph.clusters}
    targets.update((edge.id, edge) for edge in graph.edges)
    targets.update((node.id, node) for node in graph.nodes)
    if element_id in targets:
        return targets[element_id]
    for part in _DRAWN_PARTS:
        if element_id.endswith(part):
            return targets.get(element_id[: -len(part)])
    return None


def _legend_lines(colouring: Colouring) -> list[str]:
    """The colour scale as a node of its own, on the first rank, so every export carries it."""
    attrs = {"id": LEGEND_ID, "label": Html(colouring.legend_html()), "shape": "plaintext", "style": ""}
    return [f"  {{rank=min; {quote(LEGEND_ID)} {_attrs(attrs)};}}"]


def _crossing_edges(graph: ArchGraph) -> set[str]:
    """The ids of the edges that enter a stage from the stage before it (not from the stem)."""
    stage_of = {node_id: cluster.stage for cluster in graph.stage_clusters() for node_id in cluster.node_ids}
    return {
        edge.id
        for edge in graph.edges
        if edge.target in stage_of
        and edge.source in stage_of
        and stage_of[edge.source] != stage_of[edge.target]
    }


def _wrap_lines(graph: ArchGraph, rankdir: Rankdir) -> list[str]:
    """The stages side by side: their first ranks level, in order across the page."""
    stages = graph.stage_clusters()
    if len(stages) < 2:
        return []
    firsts = [quote(cluster.node_ids[0]) for cluster in stages]
    # Within a rank, left to right runs bottom to top once rotated: the first stage on top.
    order = firsts if rankdir == "TB" else firsts[::-1]
    chain = " -> ".join(order)
    return [f'  {{rank=same; {"; ".join(firsts)}; {chain} [style="invis"];}}']


def graph_to_dot(
    graph: ArchGraph,
    style: Style = "paper",
    rankdir: Rankdir = "TB",
    colouring: Colouring | None = None,
    wrap: Wrap = "none",
) -> str:
    """The DOT text of ``graph`` drawn in ``style`` from top to bottom or left to right;
    with ``colouring``, every box filled by its metric and the scale drawn beside them;
    with ``wrap="stages"``, each stage a column (a row, left to right) of its own."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"unknown rankdir {rankdir!r}; choose one of {', '.join(RANKDIRS)}")
    if wrap not in WRAPS:
        raise ValueError(f"unknown wrap {wrap!r}; choose one of {', '.join(WRAPS)}")
    out = [
        f"digraph {quote(f'{graph.level}_{style}')} {{",
        f"  graph {_attrs({'rankdir': rankdir, 'nodesep': _NODESEP[rankdir], **GRAPH_ATTRS})};",
        f"  node {_attrs(NODE_DEFAULTS)};",
        f"  edge {_attrs(EDGE_DEFAULTS)};",
    ]
    node_lines = {
        node.id: f"  {quote(node.id)} {_attrs(_node_attrs(node, style, colouring))};" for node in graph.nodes
    }
    stages = graph.stage_clusters()
    clustered = {node_id for cluster in stages for node_id in cluster.node_ids}
    out.extend(line for node_id, line in node_lines.items() if node_id not in clustered)
    # An edge into the next column may not pull that column down to where the last one ends;
    # a projection into it has its tag at the column's head, beside its first box.
    loose = _crossing_edges(graph) if wrap == "stages" else set()
    innermost = {node_id: cluster for cluster in graph.clusters for node_id in cluster.node_ids}
    stage_of = {node_id: cluster for cluster in stages for node_id in cluster.node_ids}
    held: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        if edge.kind == "reshaping" and edge.id in loose:
            head = stage_of[edge.target].node_ids[0]
            held.setdefault(innermost[head].id, []).append(edge)
    children: dict[str, list[Cluster]] = {}
    for cluster in graph.clusters:
        if cluster.parent is not None:
            children.setdefault(cluster.parent, []).append(cluster)
    drawing = _Drawing(graph, style, rankdir, wrap, node_lines, held, children)
    for cluster in stages:
        out.extend(drawing.cluster_lines(cluster))
    held_ids = {edge.id for edges in held.values() for edge in edges}
    for edge in graph.edges:
        if edge.kind == "reshaping":
            if edge.id not in held_ids:
                out.append(_tag_line(edge, style))
            out.extend(_projection_lines(edge, style, rankdir, edge.id in loose))
        else:
            attrs = _edge_attrs(edge, rankdir)
            if edge.id in loose:
                attrs["constraint"] = "false"
            out.append(f"  {quote(edge.source)} -> {quote(edge.target)} {_attrs(attrs)};")
    if wrap == "stages":
        out.extend(_wrap_lines(graph, rankdir))
    if colouring is not None:
        out.extend(_legend_lines(colouring))
    out.append("}")
    return "\n".join(out) + "\n"
