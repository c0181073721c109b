"""graph_from_spec(spec, level): a neutral graph of the network for diagrams.

The graph is made from the same layer plan and analysis as the layer table, never
from torch, so the diagram, the table and the model cannot disagree. Three levels:

- ``stage``: the input, the stem, one node per stage and the head;
- ``block``: one node per block and its merge (the residual add), with the
  shortcut edge from the block's input to that merge;
- ``layer``: every conv, BN, ReLU, pool, add, flatten and fc, each shortcut an edge
  from the block's input to its add.

A shortcut with parameters (1x1 conv + BN) or with a shape change (zero-pad) is a
``projection`` edge; one without either is an ``identity`` edge. An attention module's
gate (SE, ECA) is a side branch whose last step joins the main branch at a multiply: that
joining edge is a ``branch`` edge. All else is ``main``. The shortcut's own layers are
folded into its edge (its ``rows``), so every block has exactly one shortcut edge at the
block and layer levels. A pre-activation block's projection starts from its pre-activated
input, as the plan records (``PlannedBlock.shortcut_source``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from explorer.core import parts
from explorer.core.analysis import Analysis, LayerRow, analyze
from explorer.core.ops import OPS, stride_suffix
from explorer.core.plan import CONTAINER_OPS, NETWORK_INPUT, LayerPlan, PlannedBlock, layer_plan
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import ArchSpec

Level = Literal["stage", "block", "layer"]
LEVELS: tuple[Level, ...] = ("stage", "block", "layer")
# A shortcut edge is "identity" where the block keeps its shape, else "reshaping": it carries
# the layers of the block's shortcut kind (a projection, a zero-pad, an avg-down, ...).
EdgeKind = Literal["main", "identity", "reshaping", "branch"]
SHORTCUT_EDGE_KINDS: tuple[EdgeKind, ...] = ("identity", "reshaping")
NodeKind = Literal["input", "stem", "stage", "block", "layer", "head"]

INPUT_ID = "input"
# Nodes, edges and row links: about three layer-level graphs of the largest spec allowed.
MAX_CACHED_GRAPH_ITEMS = 300_000
Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Node:
    """One box of the diagram.

    ``id`` is unique in its graph and is the node's id in DOT and SVG. ``lines``
    describe what it computes in the ResNet paper's words ("3x3 conv, 64, /2").
    ``op`` is the plan's op for layer nodes, else the node's kind. ``row_index`` is
    its LayerRow (layer level); ``block_name`` the block it shows or belongs to.
    ``stage`` is the index of the stage whose cluster holds it (``None`` outside).
    ``params`` and ``macs`` are those of all it stands for: a block's include its shortcut's.
    """

    id: str
    kind: NodeKind
    op: str
    name: str
    lines: tuple[str, ...]
    output_shape: Shape
    params: int = 0
    macs: int = 0
    stage: int | None = None
    row_index: int | None = None
    block_name: str | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """A tensor flowing from ``source`` to ``target`` (node ids).

    Shortcut edges carry the ``block_name`` they bypass, their ``shortcut`` kind (a key of
    ``parts.SHORTCUTS``, or ``parts.IDENTITY_SHORTCUT``), a ``label`` where they carry layers
    ("1x1 conv, 256, /2"), the parameters and MACs of the shortcut layers and their ``rows``.
    """

    source: str
    target: str
    kind: EdgeKind = "main"
    label: str = ""
    params: int = 0
    macs: int = 0
    block_name: str | None = None
    rows: tuple[int, ...] = ()
    shortcut: str = ""

    @property
    def id(self) -> str:
        """Unique in its graph: a shortcut is named by its block, a main edge by its ends."""
        if self.kind in SHORTCUT_EDGE_KINDS:
            return f"shortcut:{self.block_name}"
        return f"{self.source}:{self.target}"


@dataclass(frozen=True, slots=True)
class Cluster:
    """A stage: the nodes drawn inside one coloured box."""

    id: str
    stage: int
    label: str
    node_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ArchGraph:
    spec: ArchSpec
    level: Level
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...]
    row_nodes: tuple[str, ...]
    """The id of the node that shows each analysis row (indexed by row index)."""

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def node_for_row(self, row_index: int) -> Node:
        return self.node(self.row_nodes[row_index])

    def rows_of(self, node_id: str) -> tuple[int, ...]:
        """The analysis rows a node stands for (a stage node: all of its rows)."""
        return tuple(i for i, owner in enumerate(self.row_nodes) if owner == node_id)

    def shortcut_edges(self) -> tuple[Edge, ...]:
        return tuple(edge for edge in self.edges if edge.kind in SHORTCUT_EDGE_KINDS)


def _shape_text(shape: Shape) -> str:
    return "x".join(map(str, shape))


def layer_lines(row: LayerRow) -> tuple[str, ...]:
    """A layer in the paper's words: "3x3 conv, 64, /2", "3x3 max pool, /2", "fc 1000"."""
    return (OPS[row.op].label(row),)


def _shortcut_label(rows: list[LayerRow]) -> str:
    """ "1x1 conv, 512, /2" for a projection; "2x2 avg pool, 1x1 conv, 512" for avg-down."""
    if not rows:
        return ""
    pools = [row for row in rows if row.op in ("pool", "poolsame")]
    convs = [row for row in rows if row.op == "conv"]
    if pools and convs:
        k, conv = pools[0].kernel_size, convs[0]
        return f"{k}x{k} avg pool, {conv.kernel_size}x{conv.kernel_size} conv, {conv.output_shape[0]}"
    return layer_lines(rows[0])[0]


def _block_name(row: LayerRow) -> str:
    return f"layer{(row.stage or 0) + 1}.{row.block}"


class _Builder:
    def __init__(self, spec: ArchSpec, level: Level) -> None:
        self.spec = spec
        self.level = level
        self.plan: LayerPlan = layer_plan(spec)
        self.analysis: Analysis = analyze(spec)
        self.rows = self.analysis.rows
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.row_nodes: list[str] = [""] * len(self.rows)
        self.blocks = {block.name: block for block in self.plan.blocks}
        variant = (parts.ATTENTIONS[spec.attention].badge, parts.BLOCKS[spec.block].paper)
        self.block_label = " ".join(word for word in variant if word)
        self.add_node(
            Node(INPUT_ID, "input", "input", "input", ("input",), spec.input_shape, params=0),
        )

    def add_node(self, node: Node, rows: range | tuple[int, ...] = ()) -> str:
        self.nodes.append(node)
        for index in rows:
            self.row_nodes[index] = node.id
        return node.id

    def section_rows(self, role: str) -> list[LayerRow]:
        return [row for row in self.rows if row.role == role]

    def summary_node(self, node_id: str, kind: NodeKind, role: str) -> str:
        """The stem or the head as one node."""
        rows = self.section_rows(role)
        lines = tuple(line for row in rows if OPS[row.op].drawn != "thin" for line in layer_lines(row))
        node = Node(
            node_id,
            kind,
            kind,
            node_id,
            lines,
            rows[-1].output_shape,
            params=sum(row.params for row in rows),
            macs=sum(row.macs for row in rows),
        )
        return self.add_node(node, tuple(row.index for row in rows))

    def block_lines(self, block: PlannedBlock) -> tuple[str, ...]:
        members = self.rows[block.first_layer : block.last_layer + 1]
        return tuple(
            line for row in members if row.op == "conv" and row.role == "main" for line in layer_lines(row)
        )

    def shortcut_rows(self, block: PlannedBlock) -> list[LayerRow]:
        return [row for row in self.rows[block.first_layer : block.last_layer + 1] if row.role == "shortcut"]

    def shortcut_edge(self, block: PlannedBlock, source: str, target: str) -> Edge:
        rows = self.shortcut_rows(block)
        kind: EdgeKind = "identity" if block.shortcut == parts.IDENTITY_SHORTCUT else "reshaping"
        return Edge(
            source,
            target,
            kind,
            label=_shortcut_label(rows),
            params=sum(row.params for row in rows),
            macs=sum(row.macs for row in rows),
            block_name=block.name,
            rows=tuple(row.index for row in rows),
            shortcut=block.shortcut,
        )

    def chain(self, source: str, target: str) -> str:
        self.edges.append(Edge(source, target))
        return target

    # The three levels

    def stage_level(self) -> None:
        x = self.chain(INPUT_ID, self.summary_node("stem", "stem", "stem"))
        for stage in self.analysis.stages:
            first = stage.blocks[0]
            lines = (f"{stage.depth} x {self.block_label}", *self.block_lines(self.blocks[first.name]))
            rows = range(first.first_row, stage.blocks[-1].last_row + 1)
            node = Node(
                stage.name,
                "stage",
                "stage",
                stage.name,
                lines,
                stage.output_shape,
                params=stage.params,
                macs=stage.macs,
                stage=stage.index,
            )
            x = self.chain(x, self.add_node(node, rows))
        self.chain(x, self.summary_node("head", "head", "head"))

    def block_level(self) -> None:
        x = self.chain(INPUT_ID, self.summary_node("stem", "stem", "stem"))
        summaries = {b.name: b for stage in self.analysis.stages for b in stage.blocks}
        for block in self.plan.blocks:
            summary = summaries[block.name]
            merge_row = block.merge_layer
            body_rows = [
                i
                for i in range(block.first_layer, block.last_layer + 1)
                if self.rows[i].role != "shortcut" and i < merge_row
            ]
            # The box stands for the whole block, as the layer table sums it: its shortcut's
            # layers (also on their edge) and its add (its "+") included.
            body = Node(
                block.name,
                "block",
                "block",
                block.name,
                self.block_lines(block),
                summary.output_shape,
                params=summary.params,
                macs=summary.macs,
                stage=block.stage,
                block_name=block.name,
            )
            self.add_node(body, (*body_rows, block.last_layer))
            merge_id = f"{block.name}.add"
            merge = Node(
                merge_id,
                "layer",
                "add",
                merge_id,
                ("+",),
                summary.output_shape,
                stage=block.stage,
                block_name=block.name,
            )
            merge_owned = tuple(
                i for i in range(merge_row, block.last_layer) if self.rows[i].role != "shortcut"
            )
            self.add_node(merge, merge_owned + tuple(row.index for row in self.shortcut_rows(block)))
            self.chain(x, block.name)
            self.chain(block.name, merge_id)
            self.edges.append(self.shortcut_edge(block, x, merge_id))
            x = merge_id
        self.chain(x, self.summary_node("head", "head", "head"))

    def layer_level(self) -> None:
        blocks = self.plan.blocks
        block_of_add = {block.merge_layer: block for block in blocks}
        ids: dict[int, str] = {NETWORK_INPUT: INPUT_ID}
        seen: dict[str, int] = {}
        for row in self.rows:
            if row.op in CONTAINER_OPS or row.role == "shortcut":
                continue
            count = seen.get(row.name, 0) + 1
            seen[row.name] = count
            node_id = row.name if count == 1 else f"{row.name}@{count}"
            ids[row.index] = node_id
            block = self.blocks[_block_name(row)] if row.block is not None else None
            node = Node(
                node_id,
                "layer",
                row.op,
                row.name,
                layer_lines(row),
                row.output_shape,
                params=row.params,
                macs=row.macs,
                stage=row.stage,
                row_index=row.index,
                block_name=block.name if block else None,
            )
            self.add_node(node, (row.index,))
            if row.op == "add":
                block = block_of_add[row.index]
                block_input = ids[block.shortcut_source]
                self.chain(ids[row.inputs[0]], node_id)
                self.edges.append(self.shortcut_edge(block, block_input, node_id))
                for shortcut in self.shortcut_rows(block):
                    self.row_nodes[shortcut.index] = node_id
            else:
                # An attention gate is a side branch off the main line that rejoins it at its
                # multiply: its steps' edges are the branch's, the multiply's first input the main line.
                side = row.role == "attention" and len(row.inputs) == 1
                kind: EdgeKind = "branch" if side else "main"
                self.edges.append(
                    Edge(ids[row.inputs[0]], node_id, kind, block_name=node.block_name if side else None)
                )
                for source in row.inputs[1:]:
                    self.edges.append(Edge(ids[source], node_id, "branch", block_name=node.block_name))
        for index, layer in enumerate(self.plan.layers):
            if layer.op == "module":
                # An attention module's row is shown at its multiply, its last step.
                self.row_nodes[index] = ids[index - 1]
        for block in blocks:
            # A block row stands for the whole block: show it at the block's add.
            self.row_nodes[block.last_layer] = ids[block.merge_layer]

    def clusters(self) -> tuple[Cluster, ...]:
        result = []
        for stage in self.analysis.stages:
            members = tuple(node.id for node in self.nodes if node.stage == stage.index)
            if self.level == "stage" or not members:
                continue
            label = f"{stage.name}\n{stage.depth} x {self.block_label}{stride_suffix(stage.stride)}"
            result.append(Cluster(f"cluster_{stage.name}", stage.index, label, members))
        return tuple(result)


def _graph_size(graph: ArchGraph) -> int:
    return len(graph.nodes) + len(graph.edges) + len(graph.row_nodes)


@size_bounded_cache(max_entries=32, max_size=MAX_CACHED_GRAPH_ITEMS, size_of=_graph_size)
def graph_from_spec(spec: ArchSpec, level: Level = "block") -> ArchGraph:
    """The diagram graph of ``spec`` at ``level`` (cached: specs are immutable)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    builder = _Builder(spec, level)
    getattr(builder, f"{level}_level")()
    return ArchGraph(
        spec=spec,
        level=level,
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges),
        clusters=builder.clusters(),
        row_nodes=tuple(builder.row_nodes),
    )
