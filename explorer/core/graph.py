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

At the layer level each block's layers sit in a box of their own, named by the block, inside
their stage's. With ``fold="repeats"``, each fold group (``explorer.core.fold``: consecutive
blocks of a stage drawn alike) is drawn once at the block and layer levels, in a box that
carries its repeat count, with its shortcut drawn once; every row of the group's blocks maps
to the box that draws its layer, so whatever sums rows (colours, selections) sums them all.
A group named in ``unfolded`` is drawn block by block, in a box that says it can fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from explorer.core import parts
from explorer.core.analysis import Analysis, BlockSummary, LayerRow, analyze
from explorer.core.fold import FOLDS, Fold, FoldGroup, fold_groups
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
# A stage's box; a block's box at the layer level; a fold group drawn once; one drawn block
# by block.
ClusterKind = Literal["stage", "block", "folded", "unfolded"]

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
    ``params`` and ``macs`` are those of all it stands for: a block's include its shortcut's,
    a folded group's are the sums over its blocks.

    ``group`` is the id of the fold group the node belongs to, folded or not (``None``
    outside one, or when the graph does not fold); ``repeat`` the number of blocks it draws
    at once (more than 1 only in a folded group, whose nodes' ``block_name`` is the group's
    id). At the layer level ``rows`` are the analysis rows of the layer it draws: its own
    (``row_index``), or in a folded group the same layer of each of the group's blocks.
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
    group: str | None = None
    repeat: int = 1
    rows: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Edge:
    """A tensor flowing from ``source`` to ``target`` (node ids).

    Shortcut edges carry the ``block_name`` they bypass, their ``shortcut`` kind (a key of
    ``parts.SHORTCUTS``, or ``parts.IDENTITY_SHORTCUT``), a ``label`` where they carry layers
    ("1x1 conv, 256, /2"), the parameters and MACs of the shortcut layers and their ``rows``.
    A folded group's shortcut, drawn once, carries the group's id as ``block_name`` and the
    rows of all of its blocks' shortcuts.
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
    """Nodes drawn inside one box: a stage's (coloured), or within a stage a block's (layer
    level), a folded group's (``repeat`` blocks drawn once) or an unfolded group's.

    ``node_ids`` are all the nodes inside, those of the boxes it holds included; ``parent``
    is the id of the box that holds it (``None`` for a stage); ``group`` the fold group a
    ``folded`` or ``unfolded`` box draws.
    """

    id: str
    stage: int
    label: str
    node_ids: tuple[str, ...]
    kind: ClusterKind = "stage"
    parent: str | None = None
    group: str | None = None
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class ArchGraph:
    spec: ArchSpec
    level: Level
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...]
    row_nodes: tuple[str, ...]
    """The id of the node that shows each analysis row (indexed by row index)."""
    fold: Fold = "none"
    groups: tuple[FoldGroup, ...] = ()
    """The fold groups drawn (with ``fold="repeats"`` at the block and layer levels), folded
    or not."""
    unfolded: frozenset[str] = frozenset()
    """The ids of the groups among ``groups`` drawn block by block."""

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

    def group(self, group_id: str) -> FoldGroup:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def folded_groups(self) -> tuple[FoldGroup, ...]:
        """The groups drawn once, with their repeat count."""
        return tuple(group for group in self.groups if group.id not in self.unfolded)

    def stage_clusters(self) -> tuple[Cluster, ...]:
        return tuple(cluster for cluster in self.clusters if cluster.kind == "stage")


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
    def __init__(self, spec: ArchSpec, level: Level, fold: Fold, unfolded: frozenset[str]) -> None:
        self.spec = spec
        self.level = level
        self.plan: LayerPlan = layer_plan(spec)
        self.analysis: Analysis = analyze(spec)
        self.rows = self.analysis.rows
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.row_nodes: list[str] = [""] * len(self.rows)
        self.blocks = {block.name: block for block in self.plan.blocks}
        self.summaries: dict[str, BlockSummary] = {
            block.name: block for stage in self.analysis.stages for block in stage.blocks
        }
        self.groups = fold_groups(spec) if fold == "repeats" and level != "stage" else ()
        self.unfolded = frozenset(group.id for group in self.groups if group.id in unfolded)
        # Every block of a group, by name; and of a folded group only.
        self.group_of = {name: group for group in self.groups for name in group.blocks}
        self.folded = {name: group for name, group in self.group_of.items() if group.id not in self.unfolded}
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

    def members(self, block: PlannedBlock) -> tuple[PlannedBlock, ...]:
        """The blocks ``block`` is drawn for: those of its folded group, or itself."""
        group = self.folded.get(block.name)
        return (block,) if group is None else tuple(self.blocks[name] for name in group.blocks)

    def shortcut_edge(self, block: PlannedBlock, source: str, target: str) -> Edge:
        """The shortcut of ``block``, or drawn once for all the blocks of its folded group."""
        members = self.members(block)
        rows = [row for member in members for row in self.shortcut_rows(member)]
        kind: EdgeKind = "identity" if block.shortcut == parts.IDENTITY_SHORTCUT else "reshaping"
        return Edge(
            source,
            target,
            kind,
            label=_shortcut_label(self.shortcut_rows(block)),
            params=sum(row.params for row in rows),
            macs=sum(row.macs for row in rows),
            block_name=self.drawn_block_name(block),
            rows=tuple(row.index for row in rows),
            shortcut=block.shortcut,
        )

    def drawn_block_name(self, block: PlannedBlock) -> str:
        """The name a block is drawn under: its own, or its folded group's id."""
        group = self.folded.get(block.name)
        return block.name if group is None else group.id

    def group_of_block(self, block_name: str | None) -> tuple[str | None, int]:
        """The fold group a block belongs to, and how many blocks its boxes draw at once."""
        group = None if block_name is None else self.group_of.get(block_name)
        if group is None:
            return None, 1
        return group.id, 1 if group.id in self.unfolded else group.repeat

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
        for block in self.plan.blocks:
            group = self.folded.get(block.name)
            if group is not None and group.blocks[0] != block.name:
                continue  # drawn with the group's first block
            members = self.members(block)
            summaries = [self.summaries[member.name] for member in members]
            name = self.drawn_block_name(block)
            shown = name if group is None else group.label
            body_rows: list[int] = []
            merge_rows: list[int] = []
            for member in members:
                merge_row = member.merge_layer
                body_rows.extend(
                    i
                    for i in range(member.first_layer, member.last_layer + 1)
                    if self.rows[i].role != "shortcut" and i < merge_row
                )
                body_rows.append(member.last_layer)
                merge_rows.extend(
                    i for i in range(merge_row, member.last_layer) if self.rows[i].role != "shortcut"
                )
                merge_rows.extend(row.index for row in self.shortcut_rows(member))
            # The box stands for the whole block, as the layer table sums it: its shortcut's
            # layers (also on their edge) and its add (its "+") included.
            group_id, repeat = self.group_of_block(block.name)
            body = Node(
                name,
                "block",
                "block",
                shown,
                self.block_lines(block),
                summaries[-1].output_shape,
                params=sum(summary.params for summary in summaries),
                macs=sum(summary.macs for summary in summaries),
                stage=block.stage,
                block_name=name,
                group=group_id,
                repeat=repeat,
            )
            self.add_node(body, tuple(body_rows))
            merge_id = f"{name}.add"
            merge = Node(
                merge_id,
                "layer",
                "add",
                f"{shown}.add",
                ("+",),
                summaries[-1].output_shape,
                stage=block.stage,
                block_name=name,
                group=group_id,
                repeat=repeat,
            )
            self.add_node(merge, tuple(merge_rows))
            self.chain(x, name)
            self.chain(name, merge_id)
            self.edges.append(self.shortcut_edge(block, x, merge_id))
            x = merge_id
        self.chain(x, self.summary_node("head", "head", "head"))

    def layer_level(self) -> None:
        blocks = self.plan.blocks
        block_of_add = {block.merge_layer: block for block in blocks}
        ids: dict[int, str] = {NETWORK_INPUT: INPUT_ID}
        seen: dict[str, int] = {}
        # A row of a folded group's later block is drawn by the same row of its first block.
        drawn_by: dict[int, int] = {}
        for group in self.groups:
            if group.id in self.unfolded:
                continue
            first = self.blocks[group.blocks[0]]
            for name in group.blocks[1:]:
                later = self.blocks[name]
                offset = later.first_layer - first.first_layer
                drawn_by.update(
                    (index, index - offset) for index in range(later.first_layer, later.last_layer + 1)
                )
        for row in self.rows:
            if row.index in drawn_by:
                drawn_as = ids.get(drawn_by[row.index])
                if drawn_as is not None:
                    ids[row.index] = drawn_as
                continue
            if row.op in CONTAINER_OPS or row.role == "shortcut":
                continue
            block = self.blocks[_block_name(row)] if row.block is not None else None
            name = row.name
            block_name = None
            repeats: tuple[LayerRow, ...] = (row,)
            if block is not None:
                block_name = self.drawn_block_name(block)
                name = block_name + row.name[len(block.name) :]
                offset = row.index - block.first_layer
                repeats = tuple(self.rows[member.first_layer + offset] for member in self.members(block))
            group_id, repeat = self.group_of_block(block.name if block is not None else None)
            count = seen.get(name, 0) + 1
            seen[name] = count
            node_id = name if count == 1 else f"{name}@{count}"
            ids[row.index] = node_id
            node = Node(
                node_id,
                "layer",
                row.op,
                name,
                _repeated_lines(repeats),
                row.output_shape,
                params=sum(member.params for member in repeats),
                macs=sum(member.macs for member in repeats),
                stage=row.stage,
                row_index=row.index,
                block_name=block_name,
                group=group_id,
                repeat=repeat,
                rows=tuple(member.index for member in repeats),
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
            if layer.op == "module" and index not in drawn_by:
                # An attention module's row is shown at its multiply, its last step.
                self.row_nodes[index] = ids[index - 1]
        for block in blocks:
            if block.last_layer not in drawn_by:
                # A block row stands for the whole block: show it at the block's add.
                self.row_nodes[block.last_layer] = ids[block.merge_layer]
        for index, counterpart in drawn_by.items():
            self.row_nodes[index] = self.row_nodes[counterpart]

    def clusters(self) -> tuple[Cluster, ...]:
        result = []
        for stage in self.analysis.stages:
            members = tuple(node.id for node in self.nodes if node.stage == stage.index)
            if self.level == "stage" or not members:
                continue
            label = f"{stage.name}\n{stage.depth} x {self.block_label}{stride_suffix(stage.stride)}"
            stage_id = f"cluster_{stage.name}"
            result.append(Cluster(stage_id, stage.index, label, members))
            result.extend(self.inner_clusters(stage.index, stage_id))
        return tuple(result)

    def inner_clusters(self, stage: int, stage_id: str) -> list[Cluster]:
        """Within a stage: each fold group's box, and at the layer level each block's."""
        of_block: dict[str, list[str]] = {}
        for node in self.nodes:
            if node.stage == stage and node.block_name is not None:
                of_block.setdefault(node.block_name, []).append(node.id)
        result = []
        for block in self.plan.blocks:
            if block.stage != stage:
                continue
            group = self.group_of.get(block.name)
            if group is not None and group.blocks[0] == block.name:
                group_id = f"cluster_{group.id}"
                folded = group.id not in self.unfolded
                node_ids = of_block[group.id] if folded else [n for b in group.blocks for n in of_block[b]]
                kind: ClusterKind = "folded" if folded else "unfolded"
                result.append(
                    Cluster(
                        group_id, stage, group.label, tuple(node_ids), kind, stage_id, group.id, group.repeat
                    )
                )
            if self.level != "layer" or block.name in self.folded:
                continue
            parent = stage_id if group is None else f"cluster_{group.id}"
            cluster = Cluster(
                f"cluster_{block.name}", stage, block.name, tuple(of_block[block.name]), "block", parent
            )
            result.append(cluster)
        return result


def _repeated_lines(rows: tuple[LayerRow, ...]) -> tuple[str, ...]:
    """A layer's words, drawn once for the same layer of several blocks: the range of a
    drop-path rate, the one figure in which folded blocks may differ ("drop-path 0.1–0.2")."""
    first, last = rows[0], rows[-1]
    if first.rate is None or first.rate == last.rate:
        return layer_lines(first)
    # The label ends with the rate, as ".3g" writes it.
    return (f"{layer_lines(first)[0]}\u2013{last.rate or 0:.3g}",)


def _graph_size(graph: ArchGraph) -> int:
    return len(graph.nodes) + len(graph.edges) + len(graph.row_nodes)


@size_bounded_cache(max_entries=32, max_size=MAX_CACHED_GRAPH_ITEMS, size_of=_graph_size)
def graph_from_spec(
    spec: ArchSpec, level: Level = "block", fold: Fold = "none", unfolded: frozenset[str] = frozenset()
) -> ArchGraph:
    """The diagram graph of ``spec`` at ``level`` (cached: specs are immutable).

    With ``fold="repeats"`` each fold group is drawn once with its repeat count, except
    those whose ids are in ``unfolded`` (ids of no group are ignored, so a set kept while
    the spec is edited needs no pruning). Folding changes nothing at the stage level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    if fold not in FOLDS:
        raise ValueError(f"unknown fold {fold!r}; choose one of {', '.join(FOLDS)}")
    builder = _Builder(spec, level, fold, frozenset(unfolded))
    getattr(builder, f"{level}_level")()
    return ArchGraph(
        spec=spec,
        level=level,
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges),
        clusters=builder.clusters(),
        row_nodes=tuple(builder.row_nodes),
        fold=fold,
        groups=builder.groups,
        unfolded=builder.unfolded,
    )
