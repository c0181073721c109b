"""graph_from_spec: shortcuts, add nodes and parameters agree with the plan and the model."""

from __future__ import annotations

import operator
from collections import Counter

import pytest
import torch
import torch.fx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.blocks import AvgPool2dSame, BlurPool2d, DropPath
from explorer.core.build import build_model
from explorer.core.graph import INPUT_ID, LEVELS, ArchGraph, graph_from_spec
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import ArchSpec

ADD_TARGETS = (operator.add, operator.iadd, torch.add)


@st.composite
def diagram_specs(draw: st.DrawFn) -> ArchSpec:
    """Small specs of every kind: each block, stem and shortcut kind, attention and
    anti-aliasing, strides, widths that grow or not."""
    block = draw(st.sampled_from(tuple(parts.BLOCKS)))
    stages = draw(st.integers(1, 4))
    depths = tuple(draw(st.lists(st.integers(1, 3), min_size=stages, max_size=stages)))
    widths = draw(st.lists(st.sampled_from([4, 8, 16]), min_size=stages, max_size=stages))
    strides = tuple(draw(st.lists(st.integers(1, 2), min_size=stages, max_size=stages)))
    shortcut = draw(st.sampled_from(tuple(parts.SHORTCUTS)))
    stem = draw(st.sampled_from(tuple(parts.STEMS)))
    stem_width = draw(st.sampled_from([4, 8, 16]))
    if not parts.SHORTCUTS[shortcut].can_shrink:
        widths = sorted(widths)
        stem = "cifar"
        stem_width = min(stem_width, widths[0])
    return ArchSpec(
        block=block,
        depths=depths,
        widths=tuple(widths),
        strides=strides,
        stem=stem,
        stem_width=stem_width,
        num_classes=draw(st.sampled_from([0, 10])),
        shortcut=shortcut,
        attention=draw(st.sampled_from(tuple(parts.ATTENTIONS))),
        anti_alias=draw(st.sampled_from(tuple(parts.ANTI_ALIASES))),
        drop_path=draw(st.sampled_from([0.0, 0.2])),
        input_size=(64, 64),
    )


class _Tracer(torch.fx.Tracer):
    """Treats the project's own single-step modules as the layers they are (one node each)."""

    def is_leaf_module(self, module: torch.nn.Module, qualified_name: str) -> bool:
        own = isinstance(module, (BlurPool2d, AvgPool2dSame, DropPath))
        return own or super().is_leaf_module(module, qualified_name)


def _trace(spec: ArchSpec) -> torch.fx.Graph:
    return _Tracer().trace(build_model(spec, "meta"))


def fx_add_count(spec: ArchSpec) -> int:
    traced = _trace(spec)
    return sum(1 for n in traced.nodes if n.op == "call_function" and n.target in ADD_TARGETS)


def fx_module_calls(spec: ArchSpec) -> Counter[str]:
    traced = _trace(spec)
    return Counter(str(n.target) for n in traced.nodes if n.op == "call_module")


def check_shortcuts(graph: ArchGraph) -> None:
    analysis = analyze(graph.spec)
    blocks = [block for stage in analysis.stages for block in stage.blocks]
    shortcuts = graph.shortcut_edges()
    assert len(shortcuts) == len(blocks)
    assert [edge.block_name for edge in shortcuts] == [block.name for block in blocks]
    projected = {edge.block_name for edge in shortcuts if edge.kind == "reshaping"}
    reshaped = {block.name for block in blocks if block.input_shape != block.output_shape}
    # A stride-2 block on a 1x1 map keeps its shape yet still needs the strided shortcut.
    strided = {block.name for block in blocks if block.stride > 1}
    assert reshaped <= projected
    if parts.BLOCKS[graph.spec.block].project_every_stage:
        # timm's pre-activation bottleneck projects the first block of every stage.
        firsts = {block.name for block in blocks if block.index == 0}
        assert projected == reshaped | strided | firsts
    else:
        assert projected == reshaped | strided
    for edge in shortcuts:
        if edge.kind == "reshaping":
            assert edge.label and edge.rows
        else:
            assert edge.params == 0 and not edge.rows and not edge.label


def check_structure(graph: ArchGraph) -> None:
    ids = [node.id for node in graph.nodes]
    assert len(ids) == len(set(ids)), "node ids must be unique"
    assert graph.nodes[0].id == INPUT_ID
    known = set(ids)
    incoming = Counter(edge.target for edge in graph.edges if edge.kind == "main")
    side = Counter(edge.target for edge in graph.edges if edge.kind == "branch")
    for edge in graph.edges:
        assert edge.source in known and edge.target in known
    # The main edges form one chain from the input through every node but an attention
    # branch's steps, which each have one branch edge in (the branch rejoins at a multiply).
    assert all(
        incoming[node_id] + (side[node_id] if not incoming[node_id] else 0) == 1 for node_id in ids[1:]
    )
    assert incoming[INPUT_ID] == 0 and side[INPUT_ID] == 0
    edge_ids = [edge.id for edge in graph.edges]
    assert len(edge_ids) == len(set(edge_ids))
    analysis = analyze(graph.spec)
    assert len(graph.row_nodes) == len(analysis.rows)
    assert set(graph.row_nodes) <= known
    # A block's box holds its shortcut's figures; at the layer level the shortcut's layers
    # are drawn on their edge alone.
    edges = graph.edges if graph.level == "layer" else ()
    total = sum(node.params for node in graph.nodes) + sum(edge.params for edge in edges)
    assert total == analysis.totals.total_params
    macs = sum(node.macs for node in graph.nodes) + sum(edge.macs for edge in edges)
    assert macs == analysis.totals.macs


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_has_one_shortcut_per_block(name: str) -> None:
    blocks = [block for stage in analyze(preset(name)).stages for block in stage.blocks]
    reshaped = {block.name for block in blocks if block.input_shape != block.output_shape}
    for level in ("block", "layer"):
        graph = graph_from_spec(preset(name), level)
        check_shortcuts(graph)
        check_structure(graph)
        assert {edge.block_name for edge in graph.shortcut_edges() if edge.kind == "reshaping"} == reshaped
    stage_graph = graph_from_spec(preset(name), "stage")
    check_structure(stage_graph)
    assert not stage_graph.shortcut_edges()
    assert [n.kind for n in stage_graph.nodes] == ["input", "stem"] + ["stage"] * len(preset(name).depths) + [
        "head"
    ]


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_layer_level_add_nodes_match_the_traced_model(name: str) -> None:
    spec = preset(name)
    graph = graph_from_spec(spec, "layer")
    adds = [node for node in graph.nodes if node.op == "add"]
    assert len(adds) == fx_add_count(spec)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(diagram_specs())
def test_generated_specs_agree_with_plan_and_model(spec: ArchSpec) -> None:
    for level in LEVELS:
        graph = graph_from_spec(spec, level)
        check_structure(graph)
        if level != "stage":
            check_shortcuts(graph)
    layer_graph = graph_from_spec(spec, "layer")
    assert sum(1 for node in layer_graph.nodes if node.op == "add") == fx_add_count(spec)
    # Every module the model calls is a layer node or folded into a shortcut edge.
    rows = analyze(spec).rows
    drawn = Counter(
        node.name
        for node in layer_graph.nodes
        if node.row_index is not None and rows[node.row_index].summary_id is not None
    )
    drawn.update(
        rows[i].name for edge in layer_graph.shortcut_edges() for i in edge.rows if rows[i].op != "zeropad"
    )
    assert drawn == fx_module_calls(spec)


def test_layer_nodes_carry_their_rows() -> None:
    spec = preset("torchvision/resnet50")
    graph = graph_from_spec(spec, "layer")
    rows = analyze(spec).rows
    for node in graph.nodes[1:]:
        assert node.row_index is not None
        row = rows[node.row_index]
        assert (node.name, node.output_shape, node.params) == (row.name, row.output_shape, row.params)
        assert graph.node_for_row(row.index) is node
    relus = [node.id for node in graph.nodes if node.name == "layer1.0.relu"]
    assert relus == ["layer1.0.relu", "layer1.0.relu@2", "layer1.0.relu@3"]
    first = graph.node("layer1.0.conv1")
    assert first.lines == ("1x1 conv, 64",) and first.block_name == "layer1.0" and first.stage == 0
    # Shortcut rows and the block row select the block's add.
    shortcut_row = next(r for r in rows if r.name == "layer1.0.shortcut.0")
    block_row = next(r for r in rows if r.name == "layer1.0" and r.op == "block")
    assert graph.row_nodes[shortcut_row.index] == "layer1.0.add"
    assert graph.row_nodes[block_row.index] == "layer1.0.add"


def test_layer_shortcuts_run_from_the_block_input_to_its_add() -> None:
    graph = graph_from_spec(preset("torchvision/resnet18"), "layer")
    edges = {edge.block_name: edge for edge in graph.shortcut_edges()}
    assert (edges["layer1.0"].source, edges["layer1.0"].target) == ("maxpool", "layer1.0.add")
    assert edges["layer1.0"].kind == "identity"
    projection = edges["layer2.0"]
    assert (projection.source, projection.target) == ("layer1.1.relu@2", "layer2.0.add")
    assert projection.kind == "reshaping"
    assert projection.label == "1x1 conv, 128, /2"
    assert projection.params == 64 * 128 + 2 * 128


def test_zero_pad_shortcut_is_a_labelled_projection() -> None:
    graph = graph_from_spec(preset("cifar/resnet20"), "layer")
    edge = next(e for e in graph.shortcut_edges() if e.block_name == "layer2.0")
    assert edge.kind == "reshaping"
    assert edge.label == "zero-pad, 32, /2"
    assert edge.params == 0


def test_block_level_nodes_and_labels() -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "block")
    block = graph.node("layer2.0")
    assert block.lines == ("1x1 conv, 128", "3x3 conv, 128, /2", "1x1 conv, 512")
    assert block.output_shape == (512, 28, 28)
    summary = analyze(graph.spec).stages[1].blocks[0]
    assert (block.params, block.macs) == (summary.params, summary.macs)  # its shortcut's included
    assert (graph.node("layer2.0.add").params, graph.node("layer2.0.add").macs) == (0, 0)
    assert graph.node("stem").lines == ("7x7 conv, 64, /2", "3x3 max pool, /2")
    assert graph.node("head").lines == ("avg pool", "fc 1000")
    assert [c.label for c in graph.clusters][:2] == ["layer1\n3 x bottleneck", "layer2\n4 x bottleneck, /2"]
    cluster = graph.clusters[1]
    assert all(graph.node(node_id).stage == 1 for node_id in cluster.node_ids)
    assert graph.rows_of("layer2.0")[0] == analyze(graph.spec).stages[1].blocks[0].first_row


def test_stage_level_summarises_each_stage() -> None:
    spec = preset("resnet152")
    graph = graph_from_spec(spec, "stage")
    stage = graph.node("layer3")
    summary = analyze(spec).stages[2]
    assert stage.lines[0] == "36 x bottleneck"
    assert (stage.params, stage.output_shape) == (summary.params, summary.output_shape)
    assert not graph.clusters


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown level 'layers'"):
        graph_from_spec(preset("resnet18"), "layers")  # type: ignore[arg-type]
