"""The Diagram tab folds repeated blocks: its options, a click on a group, exports, find, overview."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication

from explorer.core.graph import graph_from_spec
from explorer.core.presets import preset
from explorer.core.render import export
from explorer.gui.diagram_targets import describe_element
from explorer.gui.panels.diagram import DiagramPanel
from explorer.gui.settings import DIAGRAM_FOLD, DIAGRAM_WRAP

from .conftest import open_window

pytestmark = pytest.mark.skipif(export.find_dot() is None, reason="needs graphviz's dot")

GROUP = "layer3.1-5"  # resnet50's third stage: blocks 1 to 5 alike


def diagram(qtbot, window, **options) -> DiagramPanel:  # type: ignore[no-untyped-def]
    panel = window.show_tab("Diagram")
    panel.set_options(**options)
    qtbot.waitUntil(panel.is_ready, timeout=30_000)
    return panel


@pytest.fixture
def window50(qtbot, settings: QSettings):  # type: ignore[no-untyped-def]
    return open_window(qtbot, settings, preset("resnet50"))


def click_in_view(qtbot, panel: DiagramPanel, element_id: str, corner: bool = False) -> None:  # type: ignore[no-untyped-def]
    """A real mouse click on the element: on its box's top left corner (a group's caption
    row) or its centre."""
    rect = panel.drawing.regions.regions[element_id].rect
    point = rect.topLeft() + (rect.bottomRight() - rect.topLeft()) * 0.02 if corner else rect.center()
    panel.view.centerOn(point)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=panel.view.mapFromScene(point))


def cluster_kind(panel: DiagramPanel, group: str) -> str:
    return next(c.kind for c in panel.drawing.graph.clusters if c.group == group)


def test_fold_and_wrap_are_drawn_and_remembered(qtbot, window50, settings) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="repeats", wrap="stages")
    assert panel.drawing.graph.fold == "repeats"
    assert panel.drawing.request.wrap == "stages"
    assert cluster_kind(panel, GROUP) == "folded"
    assert settings.value(DIAGRAM_FOLD) == "repeats" and settings.value(DIAGRAM_WRAP) == "stages"
    panel.set_options(fold="none", wrap="none")
    qtbot.waitUntil(panel.is_ready, timeout=30_000)
    assert panel.drawing.graph.fold == "none" and not panel.drawing.graph.groups


def test_automatic_fold_folds_a_long_figure_only(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    deep = open_window(qtbot, settings, preset("torchvision/resnet152"))
    panel = diagram(qtbot, deep, level="layer", fold="auto")
    assert panel.drawing.graph.fold == "repeats"
    panel.set_options(level="stage")
    qtbot.waitUntil(panel.is_ready, timeout=30_000)
    assert panel.drawing.graph.fold == "none"


def test_clicking_a_folded_group_unfolds_it_and_again_folds_it(qtbot, window50) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="repeats")
    folded_nodes = len(panel.drawing.graph.nodes)
    box = f"cluster_{GROUP}"
    assert "5 identical blocks drawn once" in panel.describe(box)
    assert panel.view.acts_on_click(box)
    click_in_view(qtbot, panel, box, corner=True)  # the caption with its ×5
    qtbot.waitUntil(lambda: panel.is_ready() and GROUP in panel.drawing.graph.unfolded, timeout=30_000)
    assert cluster_kind(panel, GROUP) == "unfolded"
    assert len(panel.drawing.graph.nodes) > folded_nodes
    assert window50.session.selected_rows == ()  # a fold is no selection
    assert "drawn one by one" in panel.describe(box)
    click_in_view(qtbot, panel, box, corner=True)
    qtbot.waitUntil(lambda: panel.is_ready() and not panel.drawing.graph.unfolded, timeout=30_000)
    assert cluster_kind(panel, GROUP) == "folded"
    assert len(panel.drawing.graph.nodes) == folded_nodes


def test_the_unfolded_groups_stay_through_an_edit_and_go_with_another_document(qtbot, window50) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="block", fold="repeats")
    panel.click_element(f"cluster_{GROUP}")
    qtbot.waitUntil(lambda: panel.is_ready() and GROUP in panel.drawing.graph.unfolded, timeout=30_000)
    window50.session.propose(window50.session.spec.with_depths((3, 4, 6, 4)))  # layer3 kept
    qtbot.waitUntil(lambda: panel.is_ready() and panel.drawing.graph.spec.depths[3] == 4, timeout=30_000)
    assert GROUP in panel.drawing.graph.unfolded
    window50.session.load(preset("resnet101"))
    qtbot.waitUntil(
        lambda: panel.is_ready() and panel.drawing.graph.spec == preset("resnet101"), timeout=30_000
    )
    assert panel.unfolded == frozenset() and not panel.drawing.graph.unfolded


def test_an_export_draws_what_the_view_does(qtbot, window50, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="repeats", wrap="stages")
    panel.click_element(f"cluster_{GROUP}")
    qtbot.waitUntil(lambda: panel.is_ready() and GROUP in panel.drawing.graph.unfolded, timeout=30_000)
    path = tmp_path / "net.dot"
    panel.export_to(path)
    qtbot.waitUntil(lambda: panel.message.text().startswith("Saved"), timeout=30_000)
    spec = window50.session.spec
    expected = export.diagram_dot(spec, "layer", "paper", "TB", None, "repeats", "stages", frozenset({GROUP}))
    assert path.read_text() == expected
    assert "drawn one by one" in expected  # the unfolded group's box
    assert "\u00d73" in expected  # layer4.1-2 still folded


def test_a_box_of_a_folded_group_selects_its_layer_in_every_block(qtbot, window50) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="repeats")
    node = next(n for n in panel.drawing.graph.nodes if n.group == GROUP and n.op == "conv")
    panel.click_element(node.id)
    rows = window50.session.analysis.rows
    names = sorted(rows[i].name for i in window50.session.selected_rows)
    suffix = node.name.removeprefix(GROUP)
    assert names == sorted(f"layer3.{block}{suffix}" for block in range(1, 6))
    assert panel.view.highlighted == (node.id,)


def test_boxes_are_described_as_what_they_are() -> None:
    graph = graph_from_spec(preset("resnet50"), "layer", "repeats", frozenset({"layer4.1-2"}))
    folded = describe_element(graph, f"cluster_{GROUP}")
    assert "layer3.1\u20135" in folded and "5 identical blocks" in folded and "stage" not in folded
    assert "one by one" in describe_element(graph, "cluster_layer4.1-2")
    assert "a block" in describe_element(graph, "cluster_layer4.1") and "stage" not in describe_element(
        graph, "cluster_layer4.1"
    )
    assert "whole stage" in describe_element(graph, "cluster_layer3")
    conv = next(n for n in graph.nodes if n.group == GROUP and n.op == "conv")
    assert "5 identical blocks" in describe_element(graph, conv.id)


def test_the_overview_shows_where_the_view_is_and_moves_it(qtbot, window50) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="none")
    view, overview = panel.view, panel.view.overview
    view.fit()
    assert not overview.isVisible()  # all of it in the window: nothing to show
    view.actual_size()
    view.centerOn(view.drawing_bounds().center().x(), view.drawing_bounds().top())
    assert overview.isVisible()
    assert view.viewport().geometry().contains(overview.geometry())
    shown = overview.shown_rect()
    assert shown.top() < overview.height() / 4  # the view is at the drawing's top
    target = QPoint(overview.width() // 2, overview.height() * 3 // 4)
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=target)
    assert overview.shown_rect().center().y() == pytest.approx(target.y(), abs=2)
    assert view.visible_rect().center().y() > view.drawing_bounds().height() / 2


def test_find_jumps_to_a_layer_and_centres_it(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    deep = open_window(qtbot, settings, preset("torchvision/resnet152"))
    panel = diagram(qtbot, deep, level="layer", fold="none")
    panel.view.actual_size()
    deep.activateWindow()  # a shortcut goes to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is deep)
    panel.view.setFocus()
    qtbot.keyClick(panel.view.viewport(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.find_edit.hasFocus()
    qtbot.keyClicks(panel.find_edit, "layer3.17.conv")
    assert panel.view.highlighted == ("layer3.17.conv1",)  # the first, selected
    rows = deep.session.analysis.rows
    assert [rows[i].name for i in deep.session.selected_rows] == ["layer3.17.conv1"]
    region = panel.drawing.regions.regions["layer3.17.conv1"].rect
    assert (panel.view.visible_rect().center() - region.center()).manhattanLength() < 2
    assert panel.find_count.text() == "1 of 3"
    qtbot.keyClick(panel.find_edit, Qt.Key.Key_Return)  # the next match
    assert panel.view.highlighted == ("layer3.17.conv2",)
    qtbot.keyClick(panel.find_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert panel.view.highlighted == ("layer3.17.conv1",)
    panel.find_edit.clear()
    qtbot.keyClicks(panel.find_edit, "no such layer")
    assert panel.find_count.text() == "no match"


def test_find_reaches_a_layer_drawn_in_a_folded_group(qtbot, window50) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window50, level="layer", fold="repeats")
    assert panel.find_layer("layer3.4.conv2") == f"{GROUP}.conv2"
    assert panel.find_layer("layer3.4") == f"cluster_{GROUP}"  # the group's box: left folded
    assert GROUP not in panel.unfolded
