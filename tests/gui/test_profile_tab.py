"""The Profile tab: a run through the shared queue, its tables and charts, clicks that select
rows in the other views, greyed figures after an edit, and saving."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from explorer.core.analysis import analyze
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.profile import ProfilePanel
from explorer.gui.profile_store import profile_store
from explorer.gui.session import Session

RUN_TIMEOUT_MS = 60_000
TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=4)


@pytest.fixture
def panel(qtbot) -> ProfilePanel:  # type: ignore[no-untyped-def]
    application()
    session = Session(TINY)
    widget = ProfilePanel(session)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitUntil(widget.is_ready, timeout=RUN_TIMEOUT_MS)
    widget.options.select_device("cpu")
    widget.options.warmup_box.setValue(1)
    widget.options.iterations_box.setValue(2)
    widget.options.threads_box.setValue(1)
    return widget


def _profiled(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    panel.run()
    assert panel.busy
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.result is not None, panel.message.text()


def test_a_run_fills_the_tables_and_the_store(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    _profiled(qtbot, panel)
    result = panel.result
    assert result is not None and profile_store(panel.session).for_spec(TINY) is result
    names = [panel.stage_table.item(row, 0).text() for row in range(panel.stage_table.rowCount())]
    assert names == [stage.name for stage in result.stages]
    times = [float(panel.layer_table.item(row, 2).text()) for row in range(panel.layer_table.rowCount())]
    assert times == sorted(times, reverse=True)
    assert len(panel.charts.scatter.points()) == sum(1 for row in analyze(TINY).rows if row.macs > 0)
    assert panel.figures.isVisible() and panel.figures.isEnabled()


def test_clicking_a_layer_or_a_stage_selects_its_rows(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    _profiled(qtbot, panel)
    panel.layer_table.selectRow(0)
    wanted = panel.layer_table.item(0, 0).data(Qt.ItemDataRole.UserRole)
    assert panel.session.selected_rows == (wanted,)
    panel.charts.scatter.sigClicked.emit(panel.charts.scatter, [panel.charts.scatter.points()[0]], None)
    assert panel.session.selected_rows == (panel.charts.scatter.points()[0].data(),)
    stage_row = [stage.name for stage in panel.result.stages].index("layer1")  # type: ignore[union-attr]
    panel.stage_table.selectRow(stage_row)
    block = analyze(TINY).stages[0].blocks[0]
    assert panel.session.selected_rows == tuple(range(block.first_row, block.last_row + 1))


def test_an_edit_greys_the_figures_until_the_next_run(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    _profiled(qtbot, panel)
    panel.session.propose(replace(TINY, depths=(1, 2)))
    qtbot.waitUntil(lambda: not panel.figures.isEnabled(), timeout=10_000)
    assert panel.stale_note.isVisible()
    assert profile_store(panel.session).for_spec(panel.session.spec) is None
    panel.session.undo()
    qtbot.waitUntil(lambda: panel.figures.isEnabled(), timeout=10_000)


def test_save_writes_the_profile_and_the_trace(qtbot, panel: ProfilePanel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _profiled(qtbot, panel)
    assert panel.save(tmp_path / "p.json") and panel.save(tmp_path / "t.json", trace=True)
    assert json.loads((tmp_path / "p.json").read_text())["end_to_end_ms"] > 0
    assert "traceEvents" in json.loads((tmp_path / "t.json").read_text())
    assert not panel.save(tmp_path / "missing" / "p.json")
    assert "Could not save" in panel.message.text()


def test_cancel_keeps_nothing(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    panel.options.iterations_box.setValue(1000)
    panel.run()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.result is None and profile_store(panel.session).latest is None
    assert "cancelled" in panel.message.text()
    assert panel.run_button.isEnabled()


def test_training_splits_the_tables_and_stacks_the_bars(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    import pyqtgraph as pg

    panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("train"))
    panel.options.batch_box.setValue(2)
    _profiled(qtbot, panel)
    result = panel.result
    assert result is not None and result.training
    table = panel.stage_table
    headers = [
        table.horizontalHeaderItem(column).text().replace("\n", " ") for column in range(table.columnCount())
    ]
    assert headers[1:4] == ["forward ms", "backward ms", "time ms"]
    for row, stage in enumerate(result.stages):
        assert float(table.item(row, 1).text()) == pytest.approx(stage.forward_s * 1e3, abs=1e-3)
        assert stage.backward_s is not None
        assert float(table.item(row, 2).text()) == pytest.approx(stage.backward_s * 1e3, abs=1e-3)
    layer_headers = [
        panel.layer_table.horizontalHeaderItem(column).text().replace("\n", " ")
        for column in range(panel.layer_table.columnCount())
    ]
    assert layer_headers[2:5] == ["forward ms", "backward ms", "time ms"]
    bars = [item for item in panel.charts.stages.items if isinstance(item, pg.BarGraphItem)]
    assert len(bars) == 2  # forward, then backward after it
    forward, backward = (list(bar.opts["width"]) for bar in bars)
    assert forward == pytest.approx([stage.forward_s * 1e3 for stage in result.stages])
    assert backward == pytest.approx([(stage.backward_s or 0.0) * 1e3 for stage in result.stages])
    assert list(bars[1].opts["x0"]) == pytest.approx(forward)
    assert "optimizer" in panel.check.text() and "training step" in panel.title.text()


def test_training_without_classes_is_refused_inline(qtbot, panel: ProfilePanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.propose(replace(TINY, num_classes=0))
    qtbot.waitUntil(lambda: panel.session.spec.num_classes == 0, timeout=10_000)
    panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("train"))
    panel.run()
    assert not panel.busy and panel.result is None
    assert "needs a classifier" in panel.message.text() and "Inference" in panel.message.text()


def test_the_profile_options_come_back_in_a_new_window_apart_from_the_benchmarks(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    from explorer.core.presets import preset
    from tests.gui.conftest import open_window

    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    profile = window.show_tab("Profile")
    assert isinstance(profile, ProfilePanel)
    qtbot.waitUntil(profile.is_ready, timeout=RUN_TIMEOUT_MS)
    profile.options.select_device("cpu")
    profile.options.batch_box.setValue(4)
    profile.options.iterations_box.setValue(7)
    profile.options.threads_box.setValue(1)
    profile.options.mode_box.setCurrentIndex(profile.options.mode_box.findData("train"))
    chosen = profile.options.config()
    window.close()

    again = open_window(qtbot, settings, preset("cifar/resnet20"))
    restored = again.show_tab("Profile")
    assert isinstance(restored, ProfilePanel)
    qtbot.waitUntil(restored.is_ready, timeout=RUN_TIMEOUT_MS)
    assert restored.options.config() == chosen
    benchmark = again.show_tab("Benchmark")
    assert benchmark.options.iterations_box.value() != 7  # the Benchmark tab's own options
