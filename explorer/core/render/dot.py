"""ArchGraph -> DOT text for graphviz.

Two styles: ``paper`` draws boxes in the words of the ResNet paper's Figure 3
("3x3 conv, 64", "/2" when strided) and ``detailed`` adds each node's name,
output shape and parameter count. Stages are coloured clusters; identity
shortcuts are solid and projection shortcuts dashed and labelled, as in the paper;
an attention branch is dotted grey into the multiply that rejoins it (drawn as a circled x).

The text depends only on the graph and the options (no dict order, no ids drawn
from memory), so equal inputs give equal bytes and golden files can hold it.
Every node's DOT name and ``id`` attribute is its graph id, so the SVG's
``<g id=...>`` and ``<title>`` map clicks back to nodes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Literal

from explorer.core.graph import ArchGraph, Cluster, Edge, Node
from explorer.core.ops import declared
from explorer.core.render.colour_by import LEGEND_ID, Colouring

Style = Literal["paper", "detailed"]
STYLES: tuple[Style, ...] = ("paper", "detailed")
Rankdir = Literal["TB", "LR"]
RANKDIRS: tuple[Rankdir, ...] = ("TB", "LR")

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


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _merge_sign(node: Node) -> str:
    """The sign of a step that merges two tensors, drawn as a circle holding it ("" else)."""
    rule = declared(node.op)
    return rule.merge_sign if rule is not None and rule.drawn == "merge" else ""


def node_label(node: Node, style: Style) -> str:
    """The text in the node's box; the detailed style's is an HTML-like label."""
    if node.kind == "input":
        return f"input\n{_shape_text(node.output_shape)}"
    if _merge_sign(node):
        return _merge_sign(node)
    lines = list(node.lines)
    if style == "paper":
        if node.kind == "stage":
            lines[0] = f"{node.name}: {lines[0]}"
        return "\n".join(lines)
    facts = _shape_text(node.output_shape)
    if node.params:
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
        if colouring.show_values and value is not None and not _merge_sign(node):
            label = attrs["label"]
            assert isinstance(label, str)
            attrs["label"] = _with_value(label, value)
    if _merge_sign(node):
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


def _projection_lines(edge: Edge, style: Style, rankdir: Rankdir) -> list[str]:
    """A projection drawn as source -> labelled tag -> add.

    An edge label would double the ranks of the whole layout (three times slower
    in dot) and a floating ``xlabel`` may land on another edge; a small node on
    the shortcut's own path does neither.
    """
    tag = f"{edge.id}:label"
    attrs = _edge_attrs(edge, rankdir)
    tail = {key: value for key, value in attrs.items() if key != "headport"}
    tail.update(id=f"{edge.id}:tail", arrowhead="none")
    head = {key: value for key, value in attrs.items() if key != "tailport"}
    return [
        f"  {quote(tag)} {_attrs({'id': tag, 'label': projection_label(edge, style), **TAG_ATTRS})};",
        f"  {quote(edge.source)} -> {quote(tag)} {_attrs(tail)};",
        f"  {quote(tag)} -> {quote(edge.target)} {_attrs(head)};",
    ]


def _cluster_lines(cluster: Cluster, nodes: list[str], rankdir: Rankdir) -> list[str]:
    background, _, border = STAGE_COLOURS[cluster.stage % len(STAGE_COLOURS)]
    attrs = {"style": "filled,rounded", "fillcolor": background, "color": border, "id": cluster.id}
    # The stage's name stands beside its first node, away from the main edge
    # that enters the cluster and from the shortcuts on the other side.
    caption = f"{cluster.id}:caption"
    first, second = caption, cluster.node_ids[0]
    if rankdir == "LR":
        # Rotated, the order within a rank runs bottom to top: keep the caption on top.
        first, second = second, first
    return [
        f"  subgraph {quote(cluster.id)} {{",
        f"    graph {_attrs(attrs)};",
        *(f"  {line}" for line in nodes),
        f"    {quote(caption)} {_attrs({'id': caption, 'label': LeftAligned(cluster.label), **CAPTION})};",
        f'    {{rank=same; {quote(first)} -> {quote(second)} [style="invis"];}}',
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


def graph_to_dot(
    graph: ArchGraph, style: Style = "paper", rankdir: Rankdir = "TB", colouring: Colouring | None = None
) -> str:
    """The DOT text of ``graph`` drawn in ``style`` from top to bottom or left to right;
    with ``colouring``, every box filled by its metric and the scale drawn beside them."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"unknown rankdir {rankdir!r}; choose one of {', '.join(RANKDIRS)}")
    out = [
        f"digraph {quote(f'{graph.level}_{style}')} {{",
        f"  graph {_attrs({'rankdir': rankdir, 'nodesep': _NODESEP[rankdir], **GRAPH_ATTRS})};",
        f"  node {_attrs(NODE_DEFAULTS)};",
        f"  edge {_attrs(EDGE_DEFAULTS)};",
    ]
    node_lines = {
        node.id: f"  {quote(node.id)} {_attrs(_node_attrs(node, style, colouring))};" for node in graph.nodes
    }
    clustered = {node_id for cluster in graph.clusters for node_id in cluster.node_ids}
    out.extend(line for node_id, line in node_lines.items() if node_id not in clustered)
    for cluster in graph.clusters:
        out.extend(_cluster_lines(cluster, [node_lines[node_id] for node_id in cluster.node_ids], rankdir))
    for edge in graph.edges:
        if edge.kind == "reshaping":
            out.extend(_projection_lines(edge, style, rankdir))
        else:
            out.append(
                f"  {quote(edge.source)} -> {quote(edge.target)} {_attrs(_edge_attrs(edge, rankdir))};"
            )
    if colouring is not None:
        out.extend(_legend_lines(colouring))
    out.append("}")
    return "\n".join(out) + "\n"
