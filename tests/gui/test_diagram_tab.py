"""The Diagram tab: what it draws, stale drawings, selection both ways, export, no graphviz."""

from __future__ import annotations

import math
import re
import struct
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QItemSelectionModel, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QFileDialog

from explorer.core.graph import graph_from_spec
from explorer.core.presets import preset
from explorer.core.render import export
from explorer.core.units import format_bytes, format_count, format_macs
from explorer.gui.diagram_drawing import BAND_LENGTH, DiagramRequest, draw
from explorer.gui.panels.diagram import FILE_FILTERS, DiagramPanel
from explorer.gui.panels.spec_editor import PRESET_ROLE
from explorer.gui.session import Session

from .conftest import expected_layers, open_window, table_layers, wait_current

pytestmark = pytest.mark.skipif(export.find_dot() is None, reason="needs graphviz's dot")


def diagram(qtbot, window, level: str = "block") -> DiagramPanel:  # type: ignore[no-untyped-def]
    panel = window.show_tab("Diagram")
    panel.set_options(level=level, fold="none")  # every block drawn, under its own name
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    return panel


def svg_node_ids(svg: bytes) -> set[str]:
    return {match.decode() for match in re.findall(rb'<g id="([^"]+)" class="node"', svg)}


def tree_selection(window) -> list[str]:  # type: ignore[no-untyped-def]
    rows = window.layer_view.tree.selectionModel().selectedRows(0)
    return sorted(window.layer_view.model.node(index).full_name for index in rows)


def row_index(window, name: str) -> int:  # type: ignore[no-untyped-def]
    return next(row.index for row in window.session.analysis.rows if row.name == name and row.op != "block")


# What is drawn


@pytest.mark.parametrize("level", ["stage", "block", "layer"])
def test_the_view_shows_the_current_specs_graph(qtbot, window, level) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, level)
    graph = graph_from_spec(window.session.spec, level)
    assert panel.view.drawing is panel.drawing
    assert panel.drawing.graph == graph
    assert len(panel.drawing.node_regions) == len(graph.nodes)
    assert {node.id for node in graph.nodes} <= svg_node_ids(panel.drawing.svg)
    assert panel.view.scene().items()  # the drawing is in the scene


def test_a_depth_change_redraws(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    before = len(panel.drawing.graph.nodes)
    deeper = window.session.spec.with_depths((3, 4, 6, 3))
    window.session.propose(deeper)
    wait_current(qtbot, window)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.drawing.graph.spec == deeper
    assert len(panel.drawing.node_regions) == len(graph_from_spec(deeper, "block").nodes) != before


def test_style_and_direction_redraw(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    paper = panel.drawing.svg
    panel.set_options(style="detailed", rankdir="LR")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.drawing.request.style == "detailed" and panel.drawing.request.rankdir == "LR"
    assert b"params" in panel.drawing.svg and b"params" not in paper
    with pytest.raises(ValueError, match="unknown diagram option"):
        panel.set_options(level="everything")


def test_a_hidden_tab_draws_when_shown(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window)
    window.show_tab("Layers")
    changed = window.session.spec.with_depths((1, 1, 1, 1))
    window.session.propose(changed)
    wait_current(qtbot, window)
    assert not panel.is_ready() and panel.drawing.graph.spec != changed
    window.show_tab("Diagram")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.drawing.graph.spec == changed


def test_stale_drawings_are_dropped_and_requests_merged(qtbot) -> None:  # type: ignore[no-untyped-def]
    first = preset("resnet18")
    later = [first.with_depths((d, 1, 1, 1)) for d in range(2, 7)]
    gate = threading.Event()
    drawn: list[DiagramRequest] = []

    def slow_draw(request: DiagramRequest):  # type: ignore[no-untyped-def]
        drawn.append(request)
        if request.spec == first:
            gate.wait(10)
        return draw(request)

    session = Session(first, debounce_ms=0)
    panel = DiagramPanel(session, draw_fn=slow_draw)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: len(drawn) == 1)
    for spec in later:
        session.propose(spec)
        qtbot.waitUntil(lambda: session.is_current, timeout=5_000)
    assert panel.drawing is None and not panel.is_ready()
    qtbot.waitUntil(panel.busy.isVisible)  # a slow drawing shows that it is on its way
    assert "Drawing the block-level diagram" in panel.status.text()
    gate.set()
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.busy.isHidden()
    assert panel.drawing.graph.spec == later[-1]
    assert panel.dropped == 1
    # Five requests made while the first was drawing became one drawing of the newest.
    assert [request.spec for request in drawn] == [first, later[-1]]


def test_a_long_drawing_in_bands_paints_like_the_whole_document(qtbot) -> None:  # type: ignore[no-untyped-def]
    drawing = draw(DiagramRequest(preset("torchvision/resnet50"), "layer"))
    assert len(drawing.bands) == math.ceil(drawing.bounds.height() / BAND_LENGTH) > 2
    whole = QSvgRenderer(QByteArray(drawing.svg))

    def picture(paint) -> QImage:  # type: ignore[no-untyped-def]
        # 400 pixels across the boundary of the second and third bands
        image = QImage(int(drawing.bounds.width()), 400, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(0, -(2 * BAND_LENGTH - 200))
        paint(painter)
        painter.end()
        return image

    def banded(painter: QPainter) -> None:
        for band in drawing.bands:
            painter.save()
            painter.setClipRect(band.rect, Qt.ClipOperation.IntersectClip)
            band.renderer.render(painter, drawing.bounds)
            painter.restore()

    expected = picture(lambda painter: whole.render(painter, drawing.bounds))
    actual = picture(banded)
    pixels = [(x, y) for y in range(expected.height()) for x in range(expected.width())]
    assert sum(expected.pixel(x, y) != 0xFFFFFFFF for x, y in pixels) > 2_000  # something is drawn there
    differing = sum(expected.pixel(x, y) != actual.pixel(x, y) for x, y in pixels)
    assert differing < len(pixels) // 1000  # at most a few antialiased pixels at the cut


# Selection, both ways


def test_clicking_a_layer_selects_its_row_in_the_layer_view(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    panel.click_element("layer2.0.conv1")
    assert window.session.selected_rows == (row_index(window, "layer2.0.conv1"),)
    assert tree_selection(window) == ["layer2.0.conv1"]
    assert panel.view.highlighted == ("layer2.0.conv1",)
    panel.click_element(None)  # the background
    assert window.session.selected_rows == () and tree_selection(window) == []
    assert panel.view.highlighted == ()


def test_clicking_a_block_or_stage_selects_its_group(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    panel.click_element("layer3.1")
    assert tree_selection(window) == ["layer3.1"]
    assert panel.view.highlighted == ("layer3.1", "layer3.1.add")  # the whole block
    panel.click_element("cluster_layer2")
    assert tree_selection(window) == ["layer2"]
    panel.set_options(level="stage")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    panel.click_element("layer4")
    assert tree_selection(window) == ["layer4"]
    assert panel.view.highlighted == ("layer4",)


def test_a_projection_tag_selects_the_shortcut_layers(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    panel.click_element("shortcut:layer2.0:label")
    assert tree_selection(window) == ["layer2.0.shortcut.0", "layer2.0.shortcut.1"]
    assert panel.view.highlighted == ("shortcut:layer2.0:label",)


def test_selecting_rows_in_the_layer_view_highlights_their_nodes(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    layer_view = window.layer_view
    model, selection = layer_view.model, layer_view.tree.selectionModel()

    def select(name: str, keep: bool = False) -> None:
        pending = [model.index(row, 0) for row in range(model.rowCount())]
        while model.node(pending[0]).full_name != name:
            index = pending.pop(0)
            pending.extend(model.index(row, 0, index) for row in range(model.rowCount(index)))
        flag = QItemSelectionModel.SelectionFlag
        selection.select(pending[0], (flag.Select if keep else flag.ClearAndSelect) | flag.Rows)

    select("layer2.1.conv2")
    assert window.session.selected_rows == (row_index(window, "layer2.1.conv2"),)
    assert panel.view.highlighted == ("layer2.1.conv2",)
    select("layer3.1")
    block_rows = window.session.selected_rows
    assert len(block_rows) > 5
    assert set(panel.view.highlighted) == {
        node.id
        for node in graph_from_spec(window.session.spec, "layer").nodes
        if node.block_name == "layer3.1"
    }
    panel.set_options(level="block")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert window.session.selected_rows == block_rows  # a new level keeps the selection
    assert set(panel.view.highlighted) == {"layer3.1", "layer3.1.add"}
    visible = panel.view.mapToScene(panel.view.viewport().rect()).boundingRect()
    assert visible.contains(panel.drawing.regions.regions["layer3.1"].rect)  # scrolled to it
    # The tree is not told back what it said: every stem layer selected one by one stays
    # so, though the same rows coming from elsewhere would select the stem as a whole.
    stem = [row.name for row in window.session.analysis.rows if row.stage is None][:3]
    for number, name in enumerate(stem):
        select(name, keep=number > 0)
    assert tree_selection(window) == sorted(stem)
    panel.click_element(None)
    panel.click_element("stem")  # the same rows from the diagram
    assert tree_selection(window) == ["stem"]


def test_a_new_highlight_leaves_nothing_of_the_old_one_on_screen(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    view = panel.view
    view.set_zoom(0.5)
    for element in ("layer2.0", "layer2.1"):
        region = panel.drawing.regions.regions[element]
        view.centerOn(region.rect.center())
        centre = view.mapFromScene(region.rect.center())
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        QApplication.processEvents()
    assert view.highlighted[0] == "layer2.1" and "layer2.0" not in view.highlighted
    # What the screen holds now, against the viewport painted afresh.
    corner = view.viewport().mapTo(window, QPoint(0, 0))
    size = view.viewport().size()
    shown = window.screen().grabWindow(window.winId(), corner.x(), corner.y(), size.width(), size.height())
    fresh = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    shown_image = shown.toImage().convertToFormat(QImage.Format.Format_RGB32)
    old = view.mapFromScene(panel.drawing.regions.regions["layer2.0"].rect).boundingRect()
    stale = [
        (x, y)
        for y in range(max(old.top(), 0), min(old.bottom(), size.height() - 1))
        for x in range(max(old.left(), 0), min(old.right(), size.width() - 1))
        if shown_image.pixel(x, y) != fresh.pixel(x, y)
    ]
    assert stale == []


def test_a_block_clicked_at_block_level_shows_all_of_it_at_layer_level(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    panel.click_element("layer2.0")
    assert tree_selection(window) == ["layer2.0"]
    assert set(panel.view.highlighted) == {"layer2.0", "layer2.0.add", "shortcut:layer2.0:label"}
    panel.set_options(level="layer")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    layer_graph = graph_from_spec(window.session.spec, "layer")
    block_nodes = {node.id for node in layer_graph.nodes if node.block_name == "layer2.0"}
    assert {"layer2.0.relu@2", "shortcut:layer2.0:label"} <= set(panel.view.highlighted)
    assert set(panel.view.highlighted) == block_nodes | {"shortcut:layer2.0:label"}


def test_a_real_mouse_click_selects(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    region = panel.drawing.regions.regions["layer2.1"]
    panel.view.centerOn(region.rect.center())
    position = panel.view.mapFromScene(region.rect.center())
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert tree_selection(window) == ["layer2.1"]
    assert "layer2.1" in panel.describe("layer2.1")


def test_filtering_the_layer_view_keeps_the_selection(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    panel.click_element("layer2.1.conv2")
    window.layer_view.filter_edit.setText("conv")
    assert tree_selection(window) == ["layer2.1.conv2"]
    window.layer_view.filter_edit.setText("bn")  # the selected layer is filtered out
    assert tree_selection(window) == []
    window.layer_view.filter_edit.setText("")
    assert tree_selection(window) == ["layer2.1.conv2"]
    assert panel.view.highlighted == ("layer2.1.conv2",)


def test_an_edit_drops_the_selection_of_a_layer_it_removes(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    panel.click_element("layer1.1.conv1")
    window.session.propose(window.session.spec.with_depths((1, 1, 1, 1)))
    wait_current(qtbot, window)
    assert window.session.selected_rows == () and tree_selection(window) == []
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.view.highlighted == ()


def test_an_edit_keeps_the_selection_of_a_layer_it_leaves(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    panel.click_element("layer1.0.conv1")
    window.session.propose(window.session.spec.with_depths((1, 1, 1, 1)))
    wait_current(qtbot, window)
    assert window.session.selected_rows == (row_index(window, "layer1.0.conv1"),)
    assert tree_selection(window) == ["layer1.0.conv1"]
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.view.highlighted == ("layer1.0.conv1",)


def test_an_unchanged_selection_is_not_emitted_again(qtbot) -> None:  # type: ignore[no-untyped-def]
    session = Session(preset("resnet18"))
    with qtbot.waitSignal(session.selection_changed) as blocker:
        session.select_rows([5, 3, 3])
    assert blocker.args == [(3, 5)]
    with qtbot.assertNotEmitted(session.selection_changed):
        session.select_rows((5, 3))


# Zoom


def test_zoom_buttons_wheel_and_fit(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "layer")
    view = panel.view
    view.actual_size()
    assert view.zoom() == pytest.approx(1.0)
    assert panel.zoom_label.text() == "100 %"
    view.zoom_in()
    assert view.zoom() == pytest.approx(1.25)
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        view.viewport().mapToGlobal(centre),
        QPoint(),
        QPoint(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() == pytest.approx(1.25 / 1.25**2)
    view.fit()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.scene().itemsBoundingRect())
    for _ in range(100):
        view.zoom_out()
    assert view.zoom() == pytest.approx(0.02)


# Export


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def export_and_wait(qtbot, panel, path: Path, dpi: int | None = None) -> str:  # type: ignore[no-untyped-def]
    panel.export_to(path, dpi)
    qtbot.waitUntil(lambda: not panel.message.text().startswith("Exporting"), timeout=20_000)
    return panel.message.text()


def test_export_writes_every_format(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    checks = {
        "svg": lambda data: b"<svg" in data[:600] and b'id="layer4.1"' in data,
        "png": lambda data: _png_size(data)[0] > 100,
        "pdf": lambda data: data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF"),
        "dot": lambda data: data.startswith(b"digraph") and b'"layer4.1"' in data,
    }
    for fmt, valid in checks.items():
        path = tmp_path / f"diagram.{fmt}"
        message = export_and_wait(qtbot, panel, path)
        assert message.startswith("Saved"), message
        assert valid(path.read_bytes()), fmt
        assert message.endswith(f"({format_bytes(path.stat().st_size)})"), message  # KiB, not "KB"
    export_and_wait(qtbot, panel, tmp_path / "small.png", dpi=72)
    export_and_wait(qtbot, panel, tmp_path / "large.png", dpi=144)
    small_width = _png_size((tmp_path / "small.png").read_bytes())[0]
    large_width = _png_size((tmp_path / "large.png").read_bytes())[0]
    assert large_width == pytest.approx(2 * small_width, rel=0.02)
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no leftovers


def test_the_saved_note_goes_when_the_level_changes(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    panel.export_to(tmp_path / "net.dot")
    qtbot.waitUntil(lambda: panel.message.text().startswith("Saved"), timeout=10_000)
    assert panel.message.isVisible()
    panel.set_options(level="layer")
    assert not panel.message.isVisible()
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert not panel.message.isVisible()


def test_the_export_dialog_adds_the_chosen_formats_suffix(qtbot, window, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "stage")
    chosen = (str(tmp_path / "network"), FILE_FILTERS["pdf"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: chosen)
    panel.export_dialog()
    qtbot.waitUntil(lambda: (tmp_path / "network.pdf").exists(), timeout=20_000)
    assert (tmp_path / "network.pdf").read_bytes().startswith(b"%PDF")
    assert panel.suggested_name("svg") == "resnet18-stage.svg"


def test_export_errors_show_inline(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    message = export_and_wait(qtbot, panel, tmp_path / "diagram.gif")
    assert "cannot tell the format" in message and not panel.message.isHidden()
    message = export_and_wait(qtbot, panel, tmp_path / "missing-folder" / "diagram.svg")
    assert message.startswith("Could not export diagram.svg")


# Without graphviz


def test_without_dot_the_tab_explains_how_to_install_it(qtbot, settings, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(export, "find_dot", lambda: None)
    window = open_window(qtbot, settings, preset("resnet18"))
    panel = diagram(qtbot, window, "block")
    assert panel.drawing is None and panel.missing is not None
    assert panel.pages.currentIndex() == 1
    assert not any(tool.isEnabled() for tool in panel.zoom_tools)
    text = panel.missing_label.text()
    for line in ("sudo apt install graphviz", "brew install graphviz", "winget install graphviz"):
        assert line in text
    message = export_and_wait(qtbot, panel, tmp_path / "diagram.svg")
    assert "not found" in message and export.install_hint() in message
    assert not (tmp_path / "diagram.svg").exists()
    assert export_and_wait(qtbot, panel, tmp_path / "diagram.dot").startswith("Saved")
    # Everything else keeps working.
    window.session.propose(window.session.spec.with_depths((1, 1, 1, 1)))
    wait_current(qtbot, window)
    assert table_layers(window) == expected_layers(window.session.analysis)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert panel.missing is not None
    # Once dot is back, "Check again" draws.
    monkeypatch.undo()
    panel.retry_button.click()
    qtbot.waitUntil(lambda: panel.drawing is not None, timeout=20_000)
    assert panel.pages.currentWidget() is panel.view


def _choose_preset(qtbot, window, name: str) -> None:  # type: ignore[no-untyped-def]
    combo = window.editor.preset_combo
    row = next(row for row in range(combo.count()) if combo.itemData(row, PRESET_ROLE) == name)
    combo.activated.emit(row)  # as a person's choice in the list
    wait_current(qtbot, window)


def test_a_new_network_gets_a_view_of_its_own_and_an_edit_keeps_the_view(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet110"))
    panel = diagram(qtbot, window, "block")
    view = panel.view
    view.fit()
    whole_large = view.zoom()

    def assert_a_view_of_its_own() -> None:
        shown = view.zoom()
        view.initial_view()  # the view a drawing opens with
        assert shown == pytest.approx(view.zoom())
        assert shown > 2 * whole_large  # not a speck in the larger network's view

    _choose_preset(qtbot, window, "cifar/resnet20")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert_a_view_of_its_own()
    view.actual_size()
    window.session.propose(replace(window.session.spec, depths=(4, 3, 3)))  # an edit
    wait_current(qtbot, window)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert view.zoom() == pytest.approx(1.0)
    # An edit that leaves the drawing far smaller than the window shows all of it.
    window.session.load(preset("cifar/resnet110"))
    wait_current(qtbot, window)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    view.fit()
    window.session.propose(replace(window.session.spec, depths=(1, 1, 1)))
    wait_current(qtbot, window)
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert_a_view_of_its_own()


def test_the_saved_note_goes_with_the_network_it_was_of(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "stage")
    panel.export_to(tmp_path / "net.dot")
    qtbot.waitUntil(lambda: panel.message.text().startswith("Saved"), timeout=10_000)
    _choose_preset(qtbot, window, "resnet34")
    qtbot.waitUntil(panel.is_ready, timeout=20_000)
    assert not panel.message.isVisible()


def test_a_box_tooltip_says_each_figure_once(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    panel = diagram(qtbot, window, "block")
    block = next(node for node in panel.drawing.graph.nodes if node.id == "layer1.0")
    tip = panel.describe("layer1.0")
    assert tip.count(format_count(block.params)) == 1, tip
    assert tip.count(format_macs(block.macs)) == 1, tip
    assert tip.count("params") == 1, tip
