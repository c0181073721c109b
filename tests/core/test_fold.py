"""Folding alike blocks: a fold never hides a difference, the repeat marks add up to the
stage depths, every row of a folded block is drawn by its group's boxes, and a folded box's
colour-by value is the sum over its blocks."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import fold as fold_module
from explorer.core import graph as graph_module
from explorer.core.analysis import LayerRow, analyze
from explorer.core.fold import FoldGroup, fold_groups, fold_runs
from explorer.core.graph import INPUT_ID, ArchGraph, Level, graph_from_spec
from explorer.core.plan import CONTAINER_OPS, layer_plan
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.render.colour_by import SUMMED_METRICS, colour_graph, row_values
from explorer.core.render.dot import node_label
from explorer.core.spec import ArchSpec
from tests.core.test_graph import check_shortcuts, check_structure
from tests.strategies import small_specs

FOLDED_LEVELS: tuple[Level, ...] = ("block", "layer")
DROP_PATH_RATE = re.compile(r"drop-path [0-9.e+-]+")


@st.composite
def deep_specs(draw: st.DrawFn) -> ArchSpec:
    """Small specs of every kind of part, with stages deep enough to fold (up to 6 blocks)."""
    spec = draw(small_specs(max_stages=3))
    depths = tuple(draw(st.lists(st.integers(1, 6), min_size=spec.num_stages, max_size=spec.num_stages)))
    return spec.with_depths(depths)


def block_drawing(graph: ArchGraph, block: str) -> tuple[object, ...]:
    """What the unfolded layer-level drawing shows of one block, in both styles, with the
    block's name taken out: each box's words, shape and figures, and each edge's kind and
    words, its ends named by their place in the block. A drop-path rate, which grows block
    by block, is left out: a folded box gives its range."""
    nodes = [node for node in graph.nodes if node.block_name == block]
    place = {node.id: index for index, node in enumerate(nodes)}

    def words(text: str) -> str:
        return DROP_PATH_RATE.sub("drop-path", text.replace(block, "BLOCK"))

    boxes = tuple(
        (
            words(node_label(node, "paper")),
            words(node_label(node, "detailed")),
            node.op,
            node.output_shape,
            node.params,
            node.macs,
        )
        for node in nodes
    )
    edges = tuple(
        (edge.kind, edge.label, edge.params, place.get(edge.source, "outside"), place[edge.target])
        for edge in graph.edges
        if edge.target in place
    )
    return boxes, edges


def groups_by_block(groups: tuple[FoldGroup, ...]) -> dict[str, FoldGroup]:
    return {name: group for group in groups for name in group.blocks}


def check_groups(spec: ArchSpec, groups: tuple[FoldGroup, ...]) -> None:
    """Groups are runs of two or more consecutive blocks of one stage, each drawn alike, and
    neighbours left apart are drawn differently."""
    plan = layer_plan(spec)
    order = [block.name for block in plan.blocks]
    stage_of = {block.name: block.stage for block in plan.blocks}
    unfolded = graph_from_spec(spec, "layer")
    drawings = {name: block_drawing(unfolded, name) for name in order}
    for group in groups:
        assert group.repeat >= 2
        start = order.index(group.blocks[0])
        assert list(group.blocks) == order[start : start + group.repeat]
        assert {stage_of[name] for name in group.blocks} == {group.stage}
        assert all(drawings[name] == drawings[group.blocks[0]] for name in group.blocks), group.id
    member = groups_by_block(groups)
    for before, after in pairwise(order):
        together = before in member and member[before] is member.get(after)
        if not together and stage_of[before] == stage_of[after]:
            assert drawings[before] != drawings[after], (before, after)


def check_repeats_add_up(spec: ArchSpec, graph: ArchGraph) -> None:
    """Each stage's drawn blocks, counted with their repeat marks, are the stage's depth."""
    drawn: Counter[int] = Counter()
    if graph.level == "block":
        for node in graph.nodes:
            if node.kind == "block":
                assert node.stage is not None
                drawn[node.stage] += node.repeat
    else:
        for cluster in graph.clusters:
            if cluster.kind in ("block", "folded"):
                drawn[cluster.stage] += cluster.repeat
    assert [drawn[stage] for stage in range(spec.num_stages)] == list(spec.depths)
    marks = {cluster.group: cluster.repeat for cluster in graph.clusters if cluster.kind == "folded"}
    assert marks == {group.id: group.repeat for group in graph.folded_groups()}


def check_rows_drawn_by_their_group(graph: ArchGraph) -> None:
    """Every row of a folded group's block is shown by one of the group's boxes, and a layer box
    stands for the same layer of each of the group's blocks."""
    rows = analyze(graph.spec).rows
    for group in graph.folded_groups():
        group_nodes = {node.id for node in graph.nodes if node.group == group.id}
        assert {graph.row_nodes[index] for index in group.rows} <= group_nodes
        for node in graph.nodes:
            if node.group != group.id:
                continue
            assert node.repeat == group.repeat and node.block_name == group.id
            if graph.level == "layer":
                assert len(node.rows) == group.repeat
                assert {rows[index].op for index in node.rows} == {node.op}
                assert node.params == sum(rows[index].params for index in node.rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_specs())
def test_folding_never_hides_a_difference_and_the_repeats_add_up(spec: ArchSpec) -> None:
    groups = fold_groups(spec)
    check_groups(spec, groups)
    for level in FOLDED_LEVELS:
        graph = graph_from_spec(spec, level, "repeats")
        assert graph.groups == groups
        check_structure(graph)
        check_shortcuts_drawn_once(graph)
        check_repeats_add_up(spec, graph)
        check_rows_drawn_by_their_group(graph)


def check_shortcuts_drawn_once(graph: ArchGraph) -> None:
    """One shortcut per drawn block; a folded group's carries all of its blocks' rows."""
    folded = groups_by_block(graph.folded_groups())
    drawn = {folded[name].id if name in folded else name for name in analyze_block_names(graph.spec)}
    assert sorted(edge.block_name or "" for edge in graph.shortcut_edges()) == sorted(drawn)
    shortcut_rows = {row.index for row in analyze(graph.spec).rows if row.role == "shortcut"}
    assert sorted(row for edge in graph.shortcut_edges() for row in edge.rows) == sorted(shortcut_rows)


def analyze_block_names(spec: ArchSpec) -> list[str]:
    return [block.name for stage in analyze(spec).stages for block in stage.blocks]


# What one block may differ in from its neighbours: a field of one of its layers' rows.
CHANGES = {
    "kernel": lambda row: {"kernel_size": (row.kernel_size or 1) + 2},
    "stride": lambda row: {"stride": (row.stride or 1) + 1},
    "width": lambda row: {"output_shape": (row.output_shape[0] + 1, *row.output_shape[1:])},
    "params": lambda row: {"params": row.params + 1, "trainable_params": row.trainable_params + 1},
    "macs": lambda row: {"macs": row.macs + 1},
    "groups": lambda row: {"groups": (row.groups or 1) + 1},
    "dilation": lambda row: {"dilation": (row.dilation or 1) + 1},
}


def changed_rows(
    rows: tuple[LayerRow, ...], first: int, last: int, pick: int, change: str
) -> tuple[LayerRow, ...]:
    """``rows`` with one leaf row of the block from ``first`` to ``last`` changed."""
    leaves = [row for row in rows[first : last + 1] if row.op not in CONTAINER_OPS]
    row = leaves[pick % len(leaves)]
    changed = dataclasses.replace(row, **CHANGES[change](row))
    return (*rows[: row.index], changed, *rows[row.index + 1 :])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deep_specs(), st.data())
def test_one_block_changed_in_the_middle_of_a_stage_splits_the_fold_there(
    spec: ArchSpec, data: st.DataObject
) -> None:
    groups = [group for group in fold_groups(spec) if group.repeat >= 3]
    if not groups:
        return
    group = data.draw(st.sampled_from(groups))
    middle = data.draw(st.integers(1, group.repeat - 2))
    plan = layer_plan(spec)
    blocks = {block.name: block for block in plan.blocks}
    changed = blocks[group.blocks[middle]]
    change = data.draw(st.sampled_from(sorted(CHANGES)))
    analysis = analyze(spec)
    rows = changed_rows(
        analysis.rows, changed.first_layer, changed.last_layer, data.draw(st.integers(0, 50)), change
    )
    after = fold_runs(plan.blocks, rows)
    member = groups_by_block(after)
    assert changed.name not in member, (change, changed.name)
    before_part, after_part = group.blocks[:middle], group.blocks[middle + 1 :]
    for part in (before_part, after_part):
        if len(part) >= 2:
            assert member[part[0]].blocks == part
        else:
            assert part[0] not in member
    # The diagram draws the changed block on its own, between the two halves.
    with pytest.MonkeyPatch.context() as patch:
        changed_analysis = dataclasses.replace(analysis, rows=rows)
        patch.setattr(fold_module, "analyze", lambda _spec: changed_analysis)
        patch.setattr(graph_module, "analyze", lambda _spec: changed_analysis)
        for level in FOLDED_LEVELS:
            graph = graph_from_spec.__wrapped__(spec, level, "repeats")
            assert graph.groups == after
            block_names = {node.block_name for node in graph.nodes}
            assert changed.name in block_names
            assert all(node.repeat == 1 for node in graph.nodes if node.block_name == changed.name)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_folds_and_its_repeats_add_up(name: str) -> None:
    spec = preset(name)
    for level in FOLDED_LEVELS:
        graph = graph_from_spec(spec, level, "repeats")
        check_structure(graph)
        if graph.folded_groups():
            check_shortcuts_drawn_once(graph)
        else:
            check_shortcuts(graph)
        check_repeats_add_up(spec, graph)
        check_rows_drawn_by_their_group(graph)


def test_resnet152_folds_as_the_papers_table_counts_it() -> None:
    graph = graph_from_spec(preset("torchvision/resnet152"), "block", "repeats")
    assert [(group.id, group.repeat) for group in graph.groups] == [
        ("layer1.1-2", 2),
        ("layer2.1-7", 7),
        ("layer3.1-35", 35),
        ("layer4.1-2", 2),
    ]
    # The first block of each stage changes the shape, with its projection: it stays apart.
    assert [node.id for node in graph.nodes if node.kind == "block"] == [
        "layer1.0",
        "layer1.1-2",
        "layer2.0",
        "layer2.1-7",
        "layer3.0",
        "layer3.1-35",
        "layer4.0",
        "layer4.1-2",
    ]
    folded = graph.node("layer3.1-35")
    summaries = analyze(graph.spec).stages[2].blocks[1:]
    assert folded.lines == ("1x1 conv, 256", "3x3 conv, 256", "1x1 conv, 1024")
    assert (folded.repeat, folded.group, folded.name) == (35, "layer3.1-35", "layer3.1\u201335")
    assert folded.params == sum(block.params for block in summaries)
    assert graph.group("layer3.1-35").rows == range(summaries[0].first_row, summaries[-1].last_row + 1)
    shortcut = next(edge for edge in graph.shortcut_edges() if edge.block_name == "layer3.1-35")
    assert (shortcut.kind, shortcut.source, shortcut.target) == (
        "identity",
        "layer3.0.add",
        "layer3.1-35.add",
    )


def test_a_first_block_that_keeps_the_shape_folds_with_the_rest() -> None:
    # resnet34's layer1 keeps 64 channels at stride 1: Table 1's "x3" counts all three blocks.
    assert fold_groups(preset("torchvision/resnet34"))[0].blocks == ("layer1.0", "layer1.1", "layer1.2")


def test_layer_level_folded_ids_name_the_group() -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "layer", "repeats")
    conv = graph.node("layer3.1-5.conv2")
    rows = analyze(graph.spec).rows
    assert [rows[index].name for index in conv.rows] == [f"layer3.{i}.conv2" for i in range(1, 6)]
    assert set(graph.rows_of("layer3.1-5.conv2")) == set(conv.rows)
    assert conv.lines == ("3x3 conv, 256",) and conv.repeat == 5
    assert "layer3.2.conv2" not in {node.id for node in graph.nodes}
    # The next block reads the group's output.
    assert any(edge.source == "layer3.1-5.relu@3" and edge.target == "layer4.0.conv1" for edge in graph.edges)


def test_a_drop_path_rate_folds_as_the_range_it_spans() -> None:
    spec = dataclasses.replace(preset("cifar/resnet20"), drop_path=0.2)
    graph = graph_from_spec(spec, "layer", "repeats")
    drop = graph.node("layer3.1-2.drop_path")
    rows = analyze(spec).rows
    rates = [rows[index].rate for index in drop.rows]
    assert rates[0] != rates[-1]
    assert drop.lines == (f"drop-path {rates[0]:.3g}\u2013{rates[-1]:.3g}",)


def test_unfolded_groups_are_drawn_block_by_block_in_a_box_of_their_own() -> None:
    spec = preset("torchvision/resnet50")
    folded = graph_from_spec(spec, "block", "repeats")
    graph = graph_from_spec(spec, "block", "repeats", frozenset({"layer3.1-5", "no-such-group"}))
    assert graph.unfolded == frozenset({"layer3.1-5"})
    assert [group.id for group in graph.folded_groups()] == ["layer1.1-2", "layer2.1-3", "layer4.1-2"]
    assert len(graph.nodes) == len(folded.nodes) + 2 * 4
    box = next(cluster for cluster in graph.clusters if cluster.kind == "unfolded")
    assert (box.id, box.group, box.repeat, box.parent) == (
        "cluster_layer3.1-5",
        "layer3.1-5",
        5,
        "cluster_layer3",
    )
    assert box.node_ids == tuple(f"layer3.{i}{part}" for i in range(1, 6) for part in ("", ".add"))
    assert {graph.node(node_id).group for node_id in box.node_ids} == {"layer3.1-5"}
    assert {graph.node(node_id).repeat for node_id in box.node_ids} == {1}
    check_repeats_add_up(spec, graph)
    layer = graph_from_spec(spec, "layer", "repeats", frozenset({"layer3.1-5"}))
    blocks = [cluster for cluster in layer.clusters if cluster.parent == "cluster_layer3.1-5"]
    assert [cluster.label for cluster in blocks] == [f"layer3.{i}" for i in range(1, 6)]
    check_repeats_add_up(spec, layer)


def test_without_folding_the_graph_is_as_before_but_each_layer_sits_in_its_block() -> None:
    spec = preset("torchvision/resnet50")
    for level in ("stage", "block"):
        assert graph_from_spec(spec, level).clusters == tuple(
            cluster for cluster in graph_from_spec(spec, level).clusters if cluster.kind == "stage"
        )
    assert graph_from_spec(spec, "stage", "repeats").groups == ()
    graph = graph_from_spec(spec, "layer")
    assert graph.groups == () and all(node.repeat == 1 and node.group is None for node in graph.nodes)
    blocks = {cluster.label: cluster for cluster in graph.clusters if cluster.kind == "block"}
    assert list(blocks) == analyze_block_names(spec)
    for node in graph.nodes:
        if node.block_name is not None:
            assert node.id in blocks[node.block_name].node_ids
            assert blocks[node.block_name].parent == f"cluster_layer{node.stage + 1}"  # type: ignore[operator]
        else:
            assert node.id == INPUT_ID or node.stage is None


@pytest.mark.parametrize("metric", SUMMED_METRICS[:3])
@pytest.mark.parametrize("level", FOLDED_LEVELS)
@pytest.mark.parametrize("name", ["torchvision/resnet152", "timm/seresnet50", "cifar/resnet56"])
def test_a_folded_box_is_coloured_by_the_sum_over_its_blocks(name: str, level: Level, metric: str) -> None:
    spec = preset(name)
    graph = graph_from_spec(spec, level, "repeats")
    colouring = colour_graph(graph, metric)  # type: ignore[arg-type]
    rows = analyze(spec).rows
    values = row_values(metric, rows, None)  # type: ignore[arg-type]
    plan = layer_plan(spec)
    blocks = {block.name: block for block in plan.blocks}
    checked = 0
    for group in graph.folded_groups():
        members = [blocks[name] for name in group.blocks]
        if level == "block":
            leaves = [row.index for row in rows[group.first_row : group.last_row + 1] if row.index in values]
            whole = colouring.values.get(group.id, 0.0)
            assert whole == pytest.approx(sum(values[index] for index in leaves))
            checked += 1
            continue
        first = members[0]
        for node in graph.nodes:
            if node.group != group.id or node.row_index is None:
                continue
            offset = node.row_index - first.first_layer
            expected = [values[block.first_layer + offset] for block in members]
            assert colouring.values.get(node.id, 0.0) == pytest.approx(sum(expected)), node.id
            checked += 1
        assert {colouring.repeats[node.id] for node in graph.nodes if node.group == group.id} == {
            group.repeat
        }
    assert checked
    # The scale spans the sums.
    assert colouring.high == max(colouring.values.values())
    some = next(node.id for node in graph.nodes if node.repeat > 1 and colouring.values.get(node.id))
    assert (colouring.value_text(some) or "").endswith(f" in all {graph.node(some).repeat}")
    assert "sum over its N blocks" in colouring.legend_html()
    assert "sum over" not in colour_graph(graph_from_spec(spec, level), metric).legend_html()  # type: ignore[arg-type]
