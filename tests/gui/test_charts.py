"""The Charts tab: its series come from the analysis, and it keeps up with edits."""

from __future__ import annotations

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui.panels.charts import feature_path, part_totals

from .conftest import wait_current


def test_part_totals_add_up_to_the_network() -> None:
    analysis = analyze(preset("torchvision/resnet50"))
    parts = part_totals(analysis)
    assert [name for name, _, _ in parts] == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert sum(p for _, p, _ in parts) == analysis.totals.total_params
    assert sum(m for _, _, m in parts) == analysis.totals.macs
    assert [p for name, p, _ in parts if name.startswith("layer")] == [s.params for s in analysis.stages]


def test_the_feature_path_follows_the_blocks() -> None:
    analysis = analyze(preset("cifar/resnet20"))
    path = feature_path(analysis)
    stem = [point for point in path if point[3] == "stem"]
    blocks = [point for point in path if point[3] != "stem"]
    assert len(stem) == 2 and len(blocks) == 9  # conv1, bn1; 3 stages x 3 blocks
    assert [(channels, side) for _, channels, side, _ in blocks[::3]] == [(16, 32), (32, 16), (64, 8)]


def test_a_hidden_charts_tab_catches_up_when_shown(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    charts = window.show_tab("Charts")
    qtbot.waitUntil(charts.is_ready)
    window.show_tab("Layers")
    window.editor.stage_rows[0].depth.setValue(4)
    wait_current(qtbot, window)
    assert not charts.is_ready()  # hidden: not redrawn yet
    window.show_tab("Charts")
    assert charts.is_ready()
    assert charts._shown is window.session.analysis
