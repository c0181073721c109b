"""Drawn elements <-> analysis rows, for every preset and level (no graphviz needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from explorer.core.graph import LEVELS, graph_from_spec
from explorer.core.presets import PRESET_NAMES, preset
from explorer.gui.diagram_targets import describe_element, elements_for_rows, rows_for_element

PRESETS = [name for name in PRESET_NAMES if "1202" not in name]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", PRESETS)
def test_each_box_and_tag_round_trips_through_its_rows(name: str, level: str) -> None:
    graph = graph_from_spec(preset(name), level)
    tags = {f"{edge.id}:label" for edge in graph.edges if edge.kind == "reshaping"}
    drawn = {node.id for node in graph.nodes} | tags
    for node in graph.nodes:
        rows = rows_for_element(graph, node.id)
        if node.id != "input":
            assert rows, node.id
            assert node.id in elements_for_rows(graph, rows, drawn)
    for edge in graph.shortcut_edges():
        rows = rows_for_element(graph, f"{edge.id}:label")
        assert rows == edge.rows
        if edge.kind == "reshaping" and edge.rows:
            assert elements_for_rows(graph, rows, drawn) == (f"{edge.id}:label",)
    every_row = range(len(graph.row_nodes))
    assert set(elements_for_rows(graph, every_row, drawn)) <= drawn


def test_a_stage_box_stands_for_all_of_its_rows_and_unknown_ids_for_none() -> None:
    graph = graph_from_spec(preset("resnet50"), "block")
    rows = rows_for_element(graph, "cluster_layer2:caption")
    members = {node.id for node in graph.nodes if node.stage == 1}
    assert set(elements_for_rows(graph, rows, members)) == members
    assert rows_for_element(graph, "no-such-element") == ()
    assert elements_for_rows(graph, [10_000, -1], members) == ()


def test_tooltips_name_what_is_under_the_pointer() -> None:
    graph = graph_from_spec(preset("resnet50"), "block")
    assert "layer2.0" in describe_element(graph, "layer2.0") and "params" in describe_element(
        graph, "layer2.0"
    )
    assert "shortcut: projection (1x1 conv + BN)" in describe_element(graph, "shortcut:layer2.0:label")
    avg_down = graph_from_spec(preset("timm/resnet50d"), "block")
    assert "shortcut: avg-down" in describe_element(avg_down, "shortcut:layer2.0:label")
    assert "identity shortcut" in describe_element(graph, "shortcut:layer2.1")
    assert "whole stage" in describe_element(graph, "cluster_layer3")
    assert describe_element(graph, "nothing") == ""


def test_an_attention_branch_is_described_as_one() -> None:
    graph = graph_from_spec(replace(preset("torchvision/resnet50"), attention="se"), "layer")
    branch = next(edge for edge in graph.edges if edge.kind == "branch")
    assert "attention branch" in describe_element(graph, branch.id)
