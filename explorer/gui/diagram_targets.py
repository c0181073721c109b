"""What the elements of a drawn diagram stand for: analysis rows, and a tooltip.

The layer table and the diagram share a selection of analysis rows. A click on a
layer gives its row; on a block (with its add and shortcut), stage, stem or head all
of its rows; on a projection's tag the shortcut's layers; on a stage's or a block's box
every row in it. A box that draws the blocks of a folded group once stands for them all:
a layer's box gives the same layer's row in each of them.
Back the other way, a row shows as the box that draws it, or, for a shortcut's
layers, the projection's tag when there is one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from html import escape

from explorer.core import parts
from explorer.core.analysis import LayerRow
from explorer.core.graph import ArchGraph, Cluster, Edge, Node
from explorer.core.plan import CONTAINER_OPS
from explorer.core.profile import Profile
from explorer.core.render.colour_by import node_metrics
from explorer.core.render.dot import element_target
from explorer.core.units import format_shape


def rows_for_element(graph: ArchGraph, element_id: str) -> tuple[int, ...]:
    """The analysis rows the drawn element ``element_id`` stands for (none if unknown)."""
    target = element_target(graph, element_id)
    if isinstance(target, Node):
        if target.rows:
            return target.rows  # a folded group's layer: its row in every block
        if target.row_index is not None:
            return (target.row_index,)
        if target.kind == "block":
            # The whole block, as the layer table selects it: its add, last ReLU and
            # shortcut too, which the drawing puts in the box of its "+".
            parts = [node.id for node in graph.nodes if node.block_name == target.block_name]
            return tuple(sorted(row for part in parts for row in graph.rows_of(part)))
        return graph.rows_of(target.id)
    if isinstance(target, Edge):
        return target.rows
    if target is not None:  # a box: a stage's, a block's or a fold group's
        return tuple(sorted({row for node in target.node_ids for row in graph.rows_of(node)}))
    return ()


def elements_for_rows(graph: ArchGraph, rows: Iterable[int], drawn: Collection[str]) -> tuple[str, ...]:
    """The drawn elements (ids in ``drawn``) that show ``rows``, each once, in row order."""
    tags = {}
    for edge in graph.shortcut_edges():
        tag = f"{edge.id}:label"
        if tag in drawn:
            tags.update((row, tag) for row in edge.rows)
    count = len(graph.row_nodes)
    found = dict.fromkeys(tags.get(row) or graph.row_nodes[row] for row in rows if 0 <= row < count)
    return tuple(found)


# What a drawn edge of each kind is, in a tooltip's words; a reshaping shortcut is named by
# its kind's label.
_EDGE_WORDS = {
    "main": "",
    "identity": "identity shortcut",
    "branch": "attention branch, rejoining by a multiply",
}


def _edge_words(edge: Edge) -> str:
    if edge.kind == "reshaping" and edge.shortcut in parts.SHORTCUTS:
        return "shortcut: " + " ".join(parts.SHORTCUTS[edge.shortcut].label.split())
    return _EDGE_WORDS.get(edge.kind, "")


def describe_element(graph: ArchGraph, element_id: str, profile: Profile | None = None) -> str:
    """A rich-text tooltip for the drawn element ``element_id`` ("" if unknown); a box's lists
    every metric it can be coloured by (the profiled ones with a ``profile`` of this spec)."""
    target = element_target(graph, element_id)
    if isinstance(target, Node):
        lines = [f"<b>{escape(target.name)}</b>", *(escape(line) for line in target.lines)]
        if target.repeat > 1 and target.group is not None:
            group = graph.group(target.group)
            lines.append(
                f"drawn once for {group.repeat} identical blocks ({escape(group.label)}): "
                "its figures are their sums"
            )
        lines.append(f"output {format_shape(target.output_shape)}")
        # Params and MACs among the metrics, as the box's colour and value count them: once.
        if target.kind != "input":
            lines += [
                f"{escape(label)}: {escape(value)}" for label, value in node_metrics(graph, target, profile)
            ]
        return "<br>".join(lines)
    if isinstance(target, Edge):
        kind = _edge_words(target)
        text = f"<b>{escape(target.block_name or '')}</b> {kind}"
        if target.label:
            text += f"<br>{escape(target.label)}, {target.params:,} params"
        return text
    if isinstance(target, Cluster):
        return _describe_box(target)
    return ""


def _describe_box(box: Cluster) -> str:
    """A stage's, a block's or a fold group's box, and what a click on it does."""
    name = f"<b>{escape(box.label.splitlines()[0])}</b>"
    if box.kind == "folded":
        return f"{name}, {box.repeat} identical blocks drawn once<br>click to draw them one by one"
    if box.kind == "unfolded":
        return f"{name}, {box.repeat} identical blocks drawn one by one<br>click to draw them once again"
    if box.kind == "block":
        return f"{name}, a block<br>click to select the whole block"
    return f"{name}<br>click to select the whole stage"


def find_elements(
    graph: ArchGraph, rows: Sequence[LayerRow], text: str, drawn: Collection[str]
) -> tuple[str, ...]:
    """The drawn elements (ids in ``drawn``) whose names match ``text``, best first: a name
    that is ``text``, then names that begin with it, then names that hold it; within each, in
    the order of the forward pass, a box before the first box in it. A layer's box answers to
    its own name and those of the layers it draws ("layer3.17.conv1" finds the box that draws
    it in a folded group); a block's, stage's or group's box to its name and its blocks'."""
    wanted = text.strip().lower()
    if not wanted:
        return ()
    names: dict[str, set[str]] = {node.id: {node.name.lower()} for node in graph.nodes}
    for index, owner in enumerate(graph.row_nodes):
        # A block's or module's row is drawn at its add or multiply, but named by its box.
        if owner in names and index < len(rows) and rows[index].op not in CONTAINER_OPS:
            names[owner].add(rows[index].name.lower())
    order = {node.id: place for place, node in enumerate(graph.nodes)}
    candidates = [
        (order[node.id], 1, node.id, names[node.id]) for node in graph.nodes if node.kind != "input"
    ]
    for cluster in graph.clusters:
        box_names = {cluster.label.splitlines()[0].lower()}
        if cluster.kind == "folded" and cluster.group is not None:
            box_names.update(block.lower() for block in graph.group(cluster.group).blocks)
        first = min((order[node] for node in cluster.node_ids if node in order), default=0)
        candidates.append((first, 0, cluster.id, box_names))
    ranked: list[tuple[int, int, int, str]] = []
    for place, boxes_first, element, element_names in candidates:
        if element not in drawn:
            continue
        ranks = [rank for rank in (_match_rank(name, wanted) for name in element_names) if rank is not None]
        if ranks:
            ranked.append((min(ranks), place, boxes_first, element))
    return tuple(element for *_key, element in sorted(ranked))


def _match_rank(name: str, wanted: str) -> int | None:
    if name == wanted:
        return 0
    if name.startswith(wanted):
        return 1
    return 2 if wanted in name else None
