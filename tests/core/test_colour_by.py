"""Colouring the diagram by a metric: the colours read back from the SVG follow the metric's
order, the scale is drawn in the picture, profiled metrics need a profile of the same spec."""

from __future__ import annotations

import shutil
from dataclasses import replace
from itertools import pairwise
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings

from explorer.core.analysis import LayerRow, analyze
from explorer.core.benchtypes import BenchConfig
from explorer.core.graph import LEVELS, ArchGraph, Level, Node, graph_from_spec
from explorer.core.plan import CONTAINER_OPS
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.profile import profile
from explorer.core.render.colour_by import (
    LEGEND_ID,
    VIRIDIS,
    ColourByError,
    Colouring,
    colour_at,
    colour_graph,
    node_metrics,
    text_colour,
)
from explorer.core.render.dot import graph_to_dot
from explorer.core.render.export import render
from explorer.core.spec import ArchSpec
from explorer.core.units import format_count
from tests.strategies import small_specs

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"
# Every colour the map can give, to read a fill back as its place on the scale.
_MAP = [(colour_at(step / 1000), step / 1000) for step in range(1001)]


def _place(fill: str) -> float:
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))

    def distance(entry: tuple[str, float]) -> int:
        colour = entry[0]
        return sum(
            (int(colour[i : i + 2], 16) - channel) ** 2
            for i, channel in zip((1, 3, 5), (red, green, blue), strict=True)
        )

    return min(_MAP, key=distance)[1]


def svg_fills(svg: bytes) -> dict[str, str]:
    """Each drawn node's fill, by its id, as graphviz wrote it."""
    fills = {}
    for group in ElementTree.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        shape = next((e for e in group if e.tag in (f"{SVG}polygon", f"{SVG}ellipse")), None)
        if shape is not None and shape.get("fill", "").startswith("#"):
            fills[group.get("id", "")] = shape.get("fill", "").upper()
    return fills


def assert_colours_follow_values(graph: ArchGraph, colouring: Colouring) -> None:
    fills = svg_fills(render(graph_to_dot(graph, colouring=colouring), "svg").data)
    ranked = sorted(colouring.values, key=lambda node_id: colouring.values[node_id])
    assert ranked and all(node_id in fills for node_id in ranked)
    places = [_place(fills[node_id]) for node_id in ranked]
    for (low, high), (a, b) in zip(pairwise(places), pairwise(ranked), strict=True):
        if colouring.values[a] == colouring.values[b]:
            assert fills[a] == fills[b]
        else:
            assert low <= high + 0.002, (a, b)
    if colouring.high > colouring.low:
        assert fills[ranked[-1]] == VIRIDIS[-1] and places[0] < places[-1]


@needs_dot
@pytest.mark.parametrize("metric", ["params", "macs"])
@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("torchvision/resnet50", "block"),
        ("resnet18", "stage"),
        ("cifar/resnet20", "layer"),
        ("timm/seresnet50", "block"),
    ],
)
def test_colour_order_is_the_metric_order_read_back_from_the_svg(
    name: str, level: Level, metric: str
) -> None:
    graph = graph_from_spec(preset(name), level)
    assert_colours_follow_values(graph, colour_graph(graph, metric))  # type: ignore[arg-type]


@needs_dot
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs(max_stages=3))
def test_colour_order_follows_params_and_macs_on_generated_specs(spec: ArchSpec) -> None:
    for metric, level in (("params", "block"), ("macs", "layer")):
        graph = graph_from_spec(spec, level)  # type: ignore[arg-type]
        colouring = colour_graph(graph, metric)  # type: ignore[arg-type]
        if colouring.values:
            assert_colours_follow_values(graph, colouring)


def test_a_box_of_several_layers_holds_their_sum() -> None:
    spec = preset("torchvision/resnet50")
    stages = graph_from_spec(spec, "stage")
    colouring = colour_graph(stages, "macs")
    analysis = analyze(spec)
    for stage in analysis.stages:
        assert colouring.values[stage.name] == stage.macs
    assert sum(colouring.values.values()) == analysis.totals.macs
    activations = colour_graph(stages, "activations")
    assert sum(activations.values.values()) == sum(
        r.output_bytes for r in analysis.rows if r.op not in ("block", "module")
    )


def _layer_table_rows(graph: ArchGraph, node: Node) -> list[LayerRow]:
    """The rows the layer table groups under what ``node`` draws: a layer, a block (shortcut,
    add and last activation included), a stage, the stem, the head; a block-level "+" is the
    add and the steps after it, without the shortcut (drawn as its edge)."""
    analysis = analyze(graph.spec)
    blocks = {block.name: block for stage in analysis.stages for block in stage.blocks}
    stages = {stage.name: stage for stage in analysis.stages}
    if node.row_index is not None:
        rows = [analysis.rows[node.row_index]]
    elif node.kind == "block":
        block = blocks[node.id]
        rows = list(analysis.rows[block.first_row : block.last_row + 1])
        assert sum(r.params for r in rows) == block.params and sum(r.macs for r in rows) == block.macs
    elif node.kind == "stage":
        stage = stages[node.id]
        rows = list(analysis.rows[stage.blocks[0].first_row : stage.blocks[-1].last_row + 1])
        assert sum(r.params for r in rows) == stage.params and sum(r.macs for r in rows) == stage.macs
    elif node.kind in ("stem", "head"):
        rows = [row for row in analysis.rows if row.role == node.kind]
    else:
        assert node.op == "add" and node.block_name is not None
        block = blocks[node.block_name]
        members = analysis.rows[block.first_row : block.last_row + 1]
        add = next(row.index for row in members if row.op == "add")
        rows = [row for row in members if row.index >= add and row.role != "shortcut"]
    return [row for row in rows if row.op not in CONTAINER_OPS]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_box_holds_the_layer_table_figures_of_what_it_stands_for(name: str, level: Level) -> None:
    graph = graph_from_spec(preset(name), level)
    colourings = {metric: colour_graph(graph, metric) for metric in ("params", "macs", "activations")}
    for node in graph.nodes:
        if node.kind == "input":
            continue
        rows = _layer_table_rows(graph, node)
        expected = {
            "params": sum(row.params for row in rows),
            "macs": sum(row.macs for row in rows),
            "activations": sum(row.output_bytes for row in rows),
        }
        got = {metric: colouring.values.get(node.id) for metric, colouring in colourings.items()}
        assert got == expected, node.id
    if level != "layer":  # the layer level draws a shortcut's layers on its edge, not in a box
        analysis = analyze(graph.spec)
        assert sum(colourings["params"].values.values()) == analysis.totals.total_params
        assert sum(colourings["macs"].values.values()) == analysis.totals.macs


def test_a_block_box_holds_its_shortcut_and_the_add_holds_nothing() -> None:
    graph = graph_from_spec(preset("torchvision/resnet50"), "block")
    block = analyze(graph.spec).stages[0].blocks[0]
    params, macs = colour_graph(graph, "params"), colour_graph(graph, "macs")
    assert (params.values["layer1.0"], macs.values["layer1.0"]) == (block.params, block.macs)
    assert (params.values["layer1.0.add"], macs.values["layer1.0.add"]) == (0, 0)
    described = dict(node_metrics(graph, graph.node("layer1.0")))
    assert described["parameters"] == f"{format_count(block.params)} params"


@needs_dot
def test_the_legend_is_drawn_in_the_picture_with_its_unit() -> None:
    graph = graph_from_spec(preset("resnet18"), "block")
    colouring = colour_graph(graph, "macs", show_values=True)
    svg = render(graph_to_dot(graph, colouring=colouring), "svg").data
    legend = next(g for g in ElementTree.fromstring(svg).iter(f"{SVG}g") if g.get("id") == LEGEND_ID)
    words = " ".join(t.text or "" for t in legend.iter(f"{SVG}text"))
    assert "MACs per image" in words and "MMACs" in words
    filled = {p.get("fill", "").upper() for p in legend.iter(f"{SVG}polygon")}
    assert VIRIDIS[0] in filled and VIRIDIS[-1] in filled
    assert b"GMACs" in svg or b"MMACs" in svg  # the values written in the boxes


def test_without_colouring_nothing_changes() -> None:
    graph = graph_from_spec(preset("resnet18"), "block")
    assert LEGEND_ID not in graph_to_dot(graph)


def test_dark_fills_get_light_text() -> None:
    assert text_colour(VIRIDIS[0]) == "#FFFFFF" and text_colour(VIRIDIS[-1]) == "#222222"


def test_profiled_metrics_need_a_profile_of_the_same_spec() -> None:
    spec = ArchSpec(depths=(1, 1), widths=(4, 8), stem_width=4, input_size=(8, 8))
    graph = graph_from_spec(spec, "layer")
    with pytest.raises(ColourByError, match="needs a profile"):
        colour_graph(graph, "latency")
    result = profile(spec, BenchConfig(device="cpu", threads=1, warmup=0, iterations=2))
    with pytest.raises(ColourByError, match="of another"):
        colour_graph(graph_from_spec(replace(spec, depths=(1, 2)), "layer"), "latency", result)
    latency = colour_graph(graph, "latency", result)
    times = result.layer_times()
    for node in graph.nodes:
        if node.row_index is not None:
            assert latency.values[node.id] == pytest.approx(times[node.row_index] * 1e3)
    speed = colour_graph(graph_from_spec(spec, "stage"), "gmacs", result)
    stage = result.stages[1]
    assert speed.values["layer1"] == pytest.approx(stage.gmacs_per_s)
    labels = [label for label, _ in node_metrics(graph, graph.node("conv1"), result)]
    assert labels == [
        "parameters",
        "MACs per image",
        "output bytes per image (float32)",
        "time per batch (profile median)",
        "achieved GMAC/s (profile)",
    ]
