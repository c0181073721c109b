"""The Benchmark tab: runs, cancel, errors shown inline, the sweep, exports and the comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QVBoxLayout, QWidget

import explorer.core.build
from explorer.core.analysis import analyze
from explorer.core.benchtypes import BenchResult
from explorer.core.compare import BenchFigures
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application
from explorer.gui.panels.bench_result import EMPTY, format_ms
from explorer.gui.panels.benchmark import BenchmarkPanel
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace
from tests.gui.conftest import open_window

RUN_TIMEOUT_MS = 60_000
TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16))


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> BenchmarkPanel:  # type: ignore[no-untyped-def]
    application()
    session = Session(preset("cifar/resnet20"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    widget = BenchmarkPanel(session, workspace)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitUntil(widget.is_ready, timeout=RUN_TIMEOUT_MS)
    widget.options.select_device("cpu")
    widget.options.warmup_box.setValue(1)
    widget.options.iterations_box.setValue(3)
    return widget


def _run(qtbot, panel: BenchmarkPanel, sweep: bool = False, on_samples: Any = None) -> None:  # type: ignore[no-untyped-def]
    panel.sweep() if sweep else panel.run()
    assert panel.busy and panel.job is not None
    if on_samples is not None:  # delivered on the GUI thread: nothing comes before the loop runs
        panel.job.samples_timed.connect(on_samples)
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)


def _failing_builds(monkeypatch: pytest.MonkeyPatch, fail_on: set[int]) -> list[int]:
    """Model builds numbered from 1; those in ``fail_on`` run out of memory."""
    real = explorer.core.build.build_model
    calls: list[int] = []

    def build(spec: Any, device: Any) -> Any:
        calls.append(len(calls) + 1)
        if calls[-1] in fail_on:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(spec, device)

    monkeypatch.setattr(explorer.core.build, "build_model", build)
    return calls


def test_a_run_shows_the_engines_figures(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    _run(qtbot, panel)
    result = panel.result
    assert result is not None and result.ok and result.stats is not None
    assert (result.config.device, result.config.iterations, result.config.warmup) == ("cpu", 3, 1)
    stats = result.stats
    assert len(stats.samples_s) == 3
    macs = analyze(preset("cifar/resnet20")).totals.macs
    shown = panel.card.figures
    assert shown["median"] == format_ms(stats.median_s)
    assert shown["mean"] == format_ms(stats.mean_s)
    assert shown["iqr"] == format_ms(stats.iqr_s)
    assert shown["min_max"] == format_ms(stats.min_s)
    assert shown["p90"] == format_ms(stats.p90_s)
    assert shown["images_per_s"] == f"{1 / stats.median_s:,.1f}"
    assert shown["gmacs_per_s"] == f"{macs / stats.median_s / 1e9:,.2f}"
    assert shown["peak_memory"] != "–"
    assert panel.latency_charts.samples_ms == [s * 1e3 for s in stats.samples_s]
    card = panel.card.repro.text()
    assert result.card.torch_version in card and "batch 1, float32, contiguous" in card
    assert panel.add_button.isEnabled() and not panel.error.isVisible()


def test_cancel_stops_a_run_early(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.load(TINY)  # passes far shorter than the worker's grace for a cancel
    panel.options.iterations_box.setValue(100_000)
    panel.run()
    qtbot.waitUntil(
        lambda: panel.progress.maximum() > 0 and panel.progress.value() >= 3, timeout=RUN_TIMEOUT_MS
    )
    panel.cancel()
    assert not panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    result = panel.result
    assert result is not None and result.status == "cancelled"
    assert result.stats is not None and len(result.stats.samples_s) < 100_000
    assert "Cancelled after" in panel.status.text()
    assert panel.run_button.isEnabled() and not panel.add_button.isEnabled()


def _sent(batches: list[list[float]]) -> list[float]:
    return [seconds for batch in batches for seconds in batch]


def _drawn_ms(panel: BenchmarkPanel) -> list[float]:
    curve = panel.latency_charts.series_curve
    assert curve is not None
    _xs, ys = curve.getData()
    return [float(y) for y in ys]


def test_the_latency_chart_fills_while_a_run_is_timed(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.load(TINY)  # passes far shorter than the worker's grace for a cancel
    batches: list[list[float]] = []
    panel.options.iterations_box.setValue(100_000)
    panel.run()
    assert panel.job is not None
    panel.job.samples_timed.connect(batches.append)
    qtbot.waitUntil(lambda: len(panel.latency_charts.samples_ms) >= 2, timeout=RUN_TIMEOUT_MS)
    assert panel.busy and panel.result is None  # points before the run has ended
    assert panel.latency_page.currentWidget() is panel.latency_page.chart
    live = list(panel.latency_charts.samples_ms)
    assert _drawn_ms(panel) == live == [s * 1e3 for s in _sent(batches)[: len(live)]]
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    result = panel.result
    assert result is not None and result.status == "cancelled" and result.stats is not None
    samples = result.stats.samples_s
    assert tuple(_sent(batches)) == samples[: len(_sent(batches))]  # the same values, in order
    assert _drawn_ms(panel) == panel.latency_charts.samples_ms == [s * 1e3 for s in samples]


def test_after_a_run_the_chart_holds_exactly_its_samples(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    batches: list[list[float]] = []
    panel.options.iterations_box.setValue(40)
    _run(qtbot, panel, on_samples=batches.append)
    assert panel.result is not None and panel.result.stats is not None
    samples = panel.result.stats.samples_s
    assert batches and tuple(_sent(batches)) == samples[: len(_sent(batches))]
    assert _drawn_ms(panel) == [s * 1e3 for s in samples]
    # The next run starts its chart afresh: its first batch is all the chart holds.
    batches.clear()
    shown_at_each_batch: list[int] = []

    def note(batch: list[float]) -> None:
        batches.append(batch)
        shown_at_each_batch.append(len(panel.latency_charts.samples_ms))

    panel.options.iterations_box.setValue(5)
    _run(qtbot, panel, on_samples=note)
    assert shown_at_each_batch[0] == len(batches[0]) == 1
    assert panel.result is not None and panel.result.stats is not None
    assert len(panel.result.stats.samples_s) == 5
    assert _drawn_ms(panel) == [s * 1e3 for s in panel.result.stats.samples_s]


def test_out_of_memory_is_shown_inline_and_the_next_run_works(
    in_thread_worker: None,
    qtbot,  # type: ignore[no-untyped-def]
    panel: BenchmarkPanel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _failing_builds(monkeypatch, {1})
    _run(qtbot, panel)
    assert panel.error.isVisible()
    assert panel.error.text().startswith("Out of memory on cpu at batch 1: CUDA out of memory. Tried")
    assert panel.result is None and not panel.add_button.isEnabled()
    assert panel.latency_page.currentWidget() is panel.latency_page.hint
    _run(qtbot, panel)
    assert panel.result is not None and panel.result.ok
    assert not panel.error.isVisible()


def test_the_memory_check_refuses_an_absurd_batch(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.load(preset("torchvision/resnet50"))
    panel.options.batch_box.setValue(panel.options.batch_box.maximum())
    _run(qtbot, panel)
    assert panel.error.isVisible() and panel.error.text().startswith(
        "Not enough memory: batch 65536 needs about"
    )
    assert "free" in panel.error.text()


def test_an_unsupported_dtype_is_disabled_with_its_reason(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    item = panel.options.dtype_box.model().item(panel.options.dtype_box.findText("float16"))  # type: ignore[attr-defined]
    assert not item.isEnabled()
    assert "Not on cpu" in item.toolTip() and "bfloat16" in item.toolTip()
    panel.options.dtype_box.setCurrentIndex(panel.options.dtype_box.findText("float16"))  # as if forced
    _run(qtbot, panel)
    assert panel.error.text().startswith("dtype float16 is not supported on cpu (")
    assert panel.error.text().endswith("); choose one of float32, bfloat16")
    assert panel.result is None


def test_the_sweep_chart_gets_one_point_per_batch_size(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.options.iterations_box.setValue(2)
    panel.options.sweep_limit_box.setValue(4)
    _run(qtbot, panel, sweep=True)
    assert [point.batch_size for point in panel.sweep_charts.points] == [1, 2, 4]
    xs, ys = panel.sweep_charts.throughput_plot.listDataItems()[0].getData()
    assert list(ys) == [point.images_per_s for point in panel.sweep_result.points]  # type: ignore[union-attr]
    assert len(xs) == 3
    assert "Sweep done: batch sizes 1, 2, 4" in panel.status.text()
    assert panel.sweep_page.currentWidget() is panel.sweep_charts


def test_the_sweep_stops_at_the_first_failure(
    in_thread_worker: None,
    qtbot,  # type: ignore[no-untyped-def]
    panel: BenchmarkPanel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _failing_builds(monkeypatch, {3})
    panel.options.iterations_box.setValue(2)
    panel.options.sweep_limit_box.setValue(16)
    _run(qtbot, panel, sweep=True)
    assert [point.batch_size for point in panel.sweep_charts.points] == [1, 2]
    assert len(panel.sweep_charts.latency_plot.listDataItems()[0].getData()[0]) == 2
    assert panel.error.isVisible() and panel.error.text().startswith(
        "Sweep stopped at batch 4. Out of memory"
    )


def test_add_to_comparison_puts_the_figures_in_the_workspace(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    compare = ComparePanel(panel.session, panel.workspace)
    qtbot.addWidget(compare)
    _run(qtbot, panel)
    panel.add_to_comparison()
    variants = panel.workspace.comparison.variants
    assert [v.name for v in variants] == ["cifar/resnet20"]
    assert variants[0].bench == BenchFigures.from_result(panel.result)
    assert compare.table_model.rowCount() == 1
    _run(qtbot, panel)  # the same spec again: its figures are replaced, not duplicated
    panel.add_to_comparison()
    variants = panel.workspace.comparison.variants
    assert len(variants) == 1 and variants[0].bench == BenchFigures.from_result(panel.result)


def test_copy_and_export_carry_the_reproducibility_card(qtbot, panel: BenchmarkPanel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _run(qtbot, panel)
    result = panel.result
    assert result is not None
    panel.save_result("json", str(tmp_path / "result.json"))
    assert BenchResult.from_dict(json.loads((tmp_path / "result.json").read_text())) == result
    panel.copy_result("text")
    text = QGuiApplication.clipboard().text()
    assert f"torch {result.card.torch_version}" in text and "device     cpu" in text
    panel.options.iterations_box.setValue(1)
    panel.options.sweep_limit_box.setValue(2)
    _run(qtbot, panel, sweep=True)
    panel.save_sweep(str(tmp_path / "sweep.json"))
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert [point["card"]["batch_size"] for point in saved["points"]] == [1, 2]


_NO_TORCH_IN_THE_WINDOWS_PROCESS = """
import builtins, json, sys
from importlib.abc import MetaPathFinder

seen = []

def note(name):
    if name == "torch" or name.startswith("torch."):
        seen.append(name)

class Watch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        note(name)
        return None

sys.meta_path.insert(0, Watch())
real_import = builtins.__import__
def watched_import(name, *args, **kwargs):
    note(name)  # also "import torch" statements that find it already loaded
    return real_import(name, *args, **kwargs)
builtins.__import__ = watched_import

from pathlib import Path
from PySide6.QtCore import QSettings
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application, create_window
from explorer.gui.screenshot import wait_until
app = application()
folder = Path(sys.argv[1])
settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
window = create_window(settings, preset("cifar/resnet20"), verify=False)
window.show()
panel = window.show_tab("Benchmark")
assert wait_until(panel.is_ready, 120)
panel.options.iterations_box.setValue(2)
panel.run()
assert wait_until(lambda: panel.result is not None and not panel.busy, 120)
benchmark_ok = panel.result.ok
panel.options.sweep_limit_box.setValue(2)
panel.sweep()
assert wait_until(lambda: panel.sweep_result is not None and not panel.busy, 120)
panel.add_to_comparison()
compare = window.show_tab("Compare")
compare.add_preset("cifar/resnet32")
compare.iterations_box.setValue(1)
compare.benchmark_all()
assert wait_until(lambda: not compare.busy, 120)
profile = window.show_tab("Profile")
assert wait_until(profile.is_ready, 120)
profile.options.iterations_box.setValue(2)
profile.run()
assert wait_until(lambda: profile.result is not None and not profile.busy, 120)
window.cross_check.start()
assert wait_until(lambda: window.cross_check.box is not None, 120)
dialog = window.export_model()
dialog.path_edit.setText(str(folder / "model.py"))
dialog.start()
assert wait_until(lambda: not dialog.running, 120)
app.processEvents()
print(json.dumps({
    "torch": sorted(set(seen)),
    "benchmark": benchmark_ok,
    "timed": [variant.bench is not None for variant in compare.comparison.variants],
    "profile": profile.result is not None,
    "cross_check": window.cross_check.box.text().startswith("torchsummary agrees"),
    "export": dialog.export_result is not None and (folder / "model.py").exists(),
}))
window.close()
"""


def test_the_windows_process_never_imports_torch(tmp_path: Path) -> None:
    """The real program: benchmark, sweep, compare's timings, profile, cross-check and export,
    all done in the worker process; not one torch module is imported into the window's."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_TORCH_IN_THE_WINDOWS_PROCESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        # Its own settings folder: the comparison it adds to must not land in the user's.
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "torch": [],
        "benchmark": True,
        "timed": [True, True],
        "profile": True,
        "cross_check": True,
        "export": True,
    }


def test_closing_the_window_cancels_a_run(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    window = QWidget()
    qtbot.addWidget(window)
    QVBoxLayout(window).addWidget(panel)
    window.show()
    panel.session.load(TINY)  # passes far shorter than the worker's grace for a cancel
    panel.options.iterations_box.setValue(100_000)
    panel.run()
    qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=RUN_TIMEOUT_MS)
    window.close()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    assert panel.result is not None and panel.result.status == "cancelled"
    assert panel.result.card.iterations < 100_000


def test_the_dtype_picker_follows_the_device(panel: BenchmarkPanel) -> None:
    device = panel.options.device()
    assert device is not None and device.key == "cpu"
    enabled = [
        panel.options.dtype_box.itemText(row)
        for row in range(panel.options.dtype_box.count())
        if panel.options.dtype_box.model().item(row).flags() & Qt.ItemFlag.ItemIsEnabled  # type: ignore[attr-defined]
    ]
    assert enabled == list(device.dtypes) == ["float32", "bfloat16"]


def test_a_long_run_leaves_the_thread_pool_to_the_other_tabs(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(1)
    panel.session.load(TINY)  # passes far shorter than the worker's grace for a cancel
    try:
        panel.options.iterations_box.setValue(100_000)
        panel.run()
        qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=RUN_TIMEOUT_MS)
        edited = panel.session.spec.with_depths((2, 2))
        with qtbot.waitSignal(panel.session.analysis_changed, timeout=10_000):
            panel.session.propose(edited)
        assert panel.busy and panel.session.analysis.spec == edited
        assert "the architecture has changed since" not in panel.title.text()
    finally:
        panel.cancel()
        qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
        pool.setMaxThreadCount(before)
    assert panel.result is not None and panel.result.spec != edited
    assert panel.title.text().endswith("(the architecture has changed since)")


def test_a_new_run_clears_the_last_runs_figures(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    _run(qtbot, panel)
    assert set(panel.card.figures.values()) != {EMPTY}
    panel.options.iterations_box.setValue(100_000)
    panel.run()
    assert set(panel.card.figures.values()) == {EMPTY} and not panel.card.repro.isVisible()
    assert panel.title.text().endswith("— timing…") and panel.result is None
    assert not panel.add_button.isEnabled()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)


def test_a_cancel_during_the_warm_up_says_so_and_shows_no_figures(qtbot, panel: BenchmarkPanel) -> None:  # type: ignore[no-untyped-def]
    panel.session.load(TINY)
    panel.options.warmup_box.setValue(1000)
    panel.run()
    qtbot.waitUntil(
        lambda: panel.progress.maximum() > 0 and panel.progress.value() >= 1, timeout=RUN_TIMEOUT_MS
    )
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
    result = panel.result
    assert result is not None and result.status == "cancelled" and result.stats is None
    assert set(panel.card.figures.values()) == {EMPTY}
    assert "cancelled during the warm-up (1000 passes planned), nothing timed" in panel.card.repro.text()
    assert "+ 0 timed" not in panel.card.repro.text()
    assert panel.status.text() == "Cancelled during the warm-up; nothing was timed."
    assert panel.title.text().endswith("— cancelled during the warm-up")


def test_the_run_options_come_back_in_a_new_window(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    panel = window.show_tab("Benchmark")
    assert isinstance(panel, BenchmarkPanel)
    qtbot.waitUntil(panel.is_ready, timeout=RUN_TIMEOUT_MS)
    options = panel.options
    options.select_device("cpu")
    options.batch_box.setValue(8)
    options.dtype_box.setCurrentText("bfloat16")
    options.channels_last_box.setChecked(True)
    options.warmup_box.setValue(2)
    options.iterations_box.setValue(7)
    options.min_time_box.setValue(1.5)
    options.threads_box.setValue(1)
    options.sweep_limit_box.setValue(16)
    chosen = options.config()
    window.close()

    again = open_window(qtbot, settings, preset("cifar/resnet20"))
    restored = again.show_tab("Benchmark")
    assert isinstance(restored, BenchmarkPanel)
    qtbot.waitUntil(restored.is_ready, timeout=RUN_TIMEOUT_MS)
    assert restored.options.config() == chosen
    assert restored.options.sweep_sizes() == (1, 2, 4, 8, 16)


def test_a_noisy_run_is_flagged_beside_its_figures(
    in_thread_worker: None, qtbot, panel: BenchmarkPanel, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    import explorer.core.bench as bench
    from explorer.core.benchtypes import TimingStats

    real = bench.run_benchmark
    spread_out = TimingStats.from_samples([0.01, 0.03, 0.01, 0.03, 0.005])
    monkeypatch.setattr(
        bench, "run_benchmark", lambda *args, **kwargs: replace(real(*args, **kwargs), stats=spread_out)
    )
    _run(qtbot, panel)
    assert panel.noise.isVisible() and panel.noise.text().startswith("Noisy: the IQR is")
    assert not panel.error.isVisible() and panel.card.figures["median"] == format_ms(spread_out.median_s)
    monkeypatch.setattr(bench, "run_benchmark", real)
    panel.run()
    assert not panel.noise.isVisible()  # a new run starts without the last one's warning
    qtbot.waitUntil(lambda: not panel.busy, timeout=RUN_TIMEOUT_MS)
