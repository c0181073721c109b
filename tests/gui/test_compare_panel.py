"""The Compare tab: editing variants, the table, charts, diff, timings and the saved workspace."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from explorer.core.analysis import analyze
from explorer.core.compare import BenchFigures, Comparison
from explorer.core.presets import preset
from explorer.gui.app import application
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace

NOTEBOOK = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> ComparePanel:  # type: ignore[no-untyped-def]
    application()
    session = Session(preset("resnet50"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    widget = ComparePanel(session, workspace)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    return widget


def _cell(panel: ComparePanel, row: int, key: str) -> object:
    column = 1 + [m.key for m in panel.table_model.metrics()].index(key)
    return panel.table_model.index(row, column).data(Qt.ItemDataRole.UserRole)


def test_table_figures_equal_each_variants_analysis(panel: ComparePanel) -> None:
    for name in NOTEBOOK:
        panel.add_preset(name)
    panel.add_current()
    assert panel.table_model.rowCount() == 6
    for row, variant in enumerate(panel.comparison.variants):
        totals = analyze(variant.spec).totals
        assert _cell(panel, row, "params") == totals.total_params
        assert _cell(panel, row, "macs") == totals.macs
    assert panel.comparison.variants[5].name == "resnet50 (2)"
    baseline_text = panel.table_model.index(0, 0).data()
    assert "baseline" in baseline_text


def test_editing_buttons(panel: ComparePanel) -> None:
    for name in ("resnet18", "resnet34", "resnet50"):
        panel.add_preset(name)
    panel.variants.setCurrentRow(2)
    panel.baseline_selected()
    assert panel.comparison.baseline == 2
    panel.move_selected(-1)
    assert [v.name for v in panel.comparison.variants] == ["resnet18", "resnet50", "resnet34"]
    assert panel.comparison.variants[panel.comparison.baseline].name == "resnet50"
    panel.variants.setCurrentRow(0)
    panel.duplicate_selected()
    panel.rename(1, "copy of 18")
    assert [v.name for v in panel.comparison.variants][:2] == ["resnet18", "copy of 18"]
    panel.rename(1, "resnet34")  # taken: refused inline, nothing changes
    assert panel.message.isVisible() and "already called" in panel.message.text()
    assert panel.comparison.variants[1].name == "copy of 18"
    panel.variants.setCurrentRow(0)
    panel.remove_selected()
    assert [v.name for v in panel.comparison.variants] == ["copy of 18", "resnet50", "resnet34"]


def test_charts_and_pareto_front(panel: ComparePanel, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("cifar/resnet20", "cifar/resnet56", "cifar/resnet110"):
        panel.add_preset(name)
    # resnet56 has more compute than resnet20 and is faster: resnet20 leaves the front.
    timings = [(0, 5.0), (1, 4.0), (2, 20.0)]
    for index, ms in timings:
        panel.workspace.set(panel.comparison.with_bench(index, BenchFigures("cpu", 1, ms, 0.1, 1000 / ms)))
    panel.views.setCurrentIndex(1)
    charts = panel._charts
    assert charts is not None
    assert charts.front == ["cifar/resnet56", "cifar/resnet110"]
    png, svg = tmp_path / "charts.png", tmp_path / "charts.svg"
    charts.export("png", str(png))
    charts.export("svg", str(svg))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]


def test_diff_names_stage_3_and_highlights_its_new_blocks(panel: ComparePanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.add_preset("resnet50")
    panel.add_preset("resnet101")
    panel.views.setCurrentIndex(2)
    view = panel._diff
    assert view is not None
    assert view.summary.toPlainText().splitlines()[0] == "stage 3 (layer3): 6 against 23 blocks"
    assert view.diff is not None and view.diff.blocks_differing_second[0] == "layer3.6"
    qtbot.waitUntil(lambda: not view.second_diagram.svg.renderer().defaultSize().isEmpty(), timeout=20_000)
    # Both drawings open where the difference is: layer3's end and its first new block.
    assert view.second_diagram.svg.renderer().elementExists("layer3.6")
    assert view.second_diagram.verticalScrollBar().value() > 0
    assert view.first_diagram.verticalScrollBar().value() > 0


def test_benchmark_all_times_every_variant(panel: ComparePanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel.add_preset("cifar/resnet20")
    panel.add_preset("cifar/resnet32")
    panel.iterations_box.setValue(2)
    panel.device_box.setCurrentIndex(panel.device_box.findData("cpu"))
    panel.benchmark_all()
    qtbot.waitUntil(lambda: all(v.bench for v in panel.comparison.variants), timeout=60_000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    assert _cell(panel, 0, "latency_ms") > 0
    assert panel.bench_button.isEnabled()


def test_cancel_stops_benchmark_all(panel: ComparePanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        panel.add_preset("resnet18")
    panel.iterations_box.setValue(1000)
    panel.device_box.setCurrentIndex(panel.device_box.findData("cpu"))
    panel.benchmark_all()
    qtbot.waitUntil(lambda: panel.progress.maximum() > 0 and panel.progress.value() > 0, timeout=60_000)
    panel.cancel_benchmark()
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert not any(v.bench for v in panel.comparison.variants)
    assert "cancelled" in panel.message.text()


def test_files_and_exports(panel: ComparePanel, tmp_path: Path) -> None:
    panel.add_preset("resnet18")
    panel.add_preset("resnet34")
    path = tmp_path / "saved.json"
    panel.save_file(str(path))
    assert Comparison.load(path) == panel.comparison
    panel.export_table("csv", str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_text().splitlines()[2].startswith("resnet34,")
    (tmp_path / "bad.json").write_text("{oops")
    panel.open_file(str(tmp_path / "bad.json"))
    assert "not valid JSON" in panel.message.text()
    assert len(panel.comparison.variants) == 2


_EDIT_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from explorer.gui.app import application
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace
from explorer.core.presets import preset
application()
session = Session(preset("resnet18"))
panel = ComparePanel(session, Workspace(Path(sys.argv[1]), parent=session))
panel.add_preset("resnet50")
panel.add_current()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workspace_survives_a_kill(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "workspace.json"
    result = subprocess.run([sys.executable, "-c", _EDIT_THEN_DIE, str(path)], capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL, result.stderr
    session = Session(preset("resnet18"))
    reopened = ComparePanel(session, Workspace(path, parent=session))
    qtbot.addWidget(reopened)
    assert [v.name for v in reopened.comparison.variants] == ["resnet50", "resnet18"]


def test_an_unreadable_workspace_is_kept_aside_and_reported(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "workspace.json"
    path.write_text("{broken")
    session = Session(preset("resnet18"))
    reopened = ComparePanel(session, Workspace(path, parent=session))
    qtbot.addWidget(reopened)
    assert reopened.comparison.variants == ()
    assert "could not be opened" in reopened.message.text()
    assert (tmp_path / "workspace.unreadable.json").read_text() == "{broken"


def test_the_device_picker_lists_the_devices_found(panel: ComparePanel, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: panel.device_box.count() > 2 or "—" in panel.device_box.itemText(1), timeout=60_000
    )
    keys = [panel.device_box.itemData(i) for i in range(panel.device_box.count())]
    assert keys[0] == "auto" and "cpu" in keys
    assert panel.device_box.itemText(keys.index("cpu")).startswith("cpu — ")


def test_timings_reach_their_variant_when_the_list_is_reordered_meanwhile(
    in_thread_worker: None, panel: ComparePanel, qtbot, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    import explorer.core.bench as bench
    from explorer.core.benchtypes import TimingStats

    real = bench.run_benchmark

    def labelled(spec, config, *args, **kwargs):  # type: ignore[no-untyped-def]
        # A real run whose median says which spec it timed: its block count, in ms.
        result = real(spec, config, *args, **kwargs)
        return replace(result, stats=TimingStats.from_samples([sum(spec.depths) / 1000]))

    monkeypatch.setattr(bench, "run_benchmark", labelled)
    panel.add_preset("cifar/resnet20")
    panel.add_preset("cifar/resnet110")
    panel.iterations_box.setValue(2)
    panel.device_box.setCurrentIndex(panel.device_box.findData("cpu"))
    panel.benchmark_all()
    panel.variants.setCurrentRow(1)
    panel.move_selected(-1)  # resnet110 first now, while the timings run
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert [v.name for v in panel.comparison.variants] == ["cifar/resnet110", "cifar/resnet20"]
    by_name = {v.name: v.bench for v in panel.comparison.variants}
    assert by_name["cifar/resnet20"].median_ms == pytest.approx(9.0)
    assert by_name["cifar/resnet110"].median_ms == pytest.approx(54.0)


def test_benchmark_all_shows_the_spread_flags_noisy_timings_and_uses_the_thread_count(
    in_thread_worker: None, panel: ComparePanel, qtbot, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    import explorer.core.bench as bench
    from explorer.core.benchtypes import TimingStats

    real = bench.run_benchmark
    # The two copies of resnet20 as a busy machine timed them: steady, then spread out and slow.
    timed = [
        TimingStats.from_samples([0.0109] * 5),
        TimingStats.from_samples([0.3558, 0.1, 0.6, 0.3558, 0.9]),
    ]
    samples = iter(stats.samples_s for stats in timed)
    threads: list[int | None] = []

    def busy_machine(spec, config, *args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(config.threads)
        result = real(spec, config, *args, **kwargs)
        return replace(result, stats=TimingStats.from_samples(next(samples)))

    monkeypatch.setattr(bench, "run_benchmark", busy_machine)
    panel.add_preset("cifar/resnet20")
    panel.duplicate_selected()
    panel.iterations_box.setValue(1)
    panel.device_box.setCurrentIndex(panel.device_box.findData("cpu"))
    qtbot.waitUntil(lambda: panel.threads_box.maximum() < 1024, timeout=60_000)  # the machine is known
    panel.threads_box.setValue(1)
    panel.benchmark_all()
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert threads == [1, 1]
    column = 1 + [m.key for m in panel.table_model.metrics()].index("latency_ms")
    steady, noisy = (panel.table_model.index(row, column) for row in (0, 1))
    shown = [f"{stats.median_s * 1e3:,.2f} (IQR {stats.iqr_s * 1e3:,.2f})" for stats in timed]
    assert steady.data() == shown[0] and noisy.data().startswith("⚠ " + shown[1] + "  (+")
    assert "noisy" in noisy.data(Qt.ItemDataRole.ToolTipRole) and "noisy" not in steady.data(
        Qt.ItemDataRole.ToolTipRole
    )
    warning = panel.message.text()
    assert panel.message.isVisible() and "noisy timings" in warning and "cifar/resnet20 (2)" in warning
    low, high = (f"{stats.median_s * 1e3:.3g}" for stats in timed)
    assert f"are one architecture yet took {low} to {high} ms" in warning


def test_the_timing_options_come_back_in_a_new_window(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from tests.gui.conftest import open_window

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    panel = window.show_tab("Compare")
    assert isinstance(panel, ComparePanel)
    qtbot.waitUntil(lambda: panel.threads_box.maximum() < 1024, timeout=60_000)  # devices listed
    panel.device_box.setCurrentIndex(panel.device_box.findData("cpu"))
    panel.batch_box.setValue(4)
    panel.iterations_box.setValue(7)
    panel.threads_box.setValue(1)
    window.close()

    again = open_window(qtbot, settings, preset("cifar/resnet20"))
    restored = again.show_tab("Compare")
    assert isinstance(restored, ComparePanel)
    qtbot.waitUntil(lambda: restored.threads_box.maximum() < 1024, timeout=60_000)
    chosen = (restored.device_box.currentData(), restored.batch_box.value(), restored.iterations_box.value())
    assert chosen == ("cpu", 4, 7) and restored.threads_box.value() == 1


def test_a_receptive_field_through_attention_says_global_with_its_reason(panel: ComparePanel) -> None:
    from dataclasses import replace

    plain = preset("torchvision/resnet50")
    panel.add_preset("torchvision/resnet50")
    panel._apply(lambda: panel.comparison.add("eca", replace(plain, attention="eca")))
    column = 1 + [m.key for m in panel.table_model.metrics()].index("receptive_field")
    shown = [panel.table_model.index(row, column) for row in (0, 1)]
    assert not shown[0].data().startswith("global")
    assert shown[1].data().startswith("global (")
    assert "global pooling" in shown[1].data(Qt.ItemDataRole.ToolTipRole)
