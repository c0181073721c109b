"""The window survives whatever happens to the worker process: each way it can fail is said in
the tab that ran it (what was running, how it ended, its last output behind a toggle), the
window and what the user made are untouched, and the next run works."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import explorer.gui.bench_runner as bench_runner
from explorer.core.spec import ArchSpec
from explorer.core.worker import Worker
from explorer.core.worker.faults import FAULT_ENV, STALL_ENV
from explorer.gui.panels.benchmark import BenchmarkPanel
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.panels.profile import ProfilePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace

TIMEOUT_MS = 120_000
TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16))
WORDS = {
    "abort": "Torch crashed: SIGABRT",
    "segfault": "Torch crashed: SIGSEGV, segmentation fault",
    "kill": "Killed (SIGKILL)",
    "garbage": "It sent something that is not a result",
    "exit": "The worker process exited without a result",
    "hang": "It made no progress for 3 s",
}


@pytest.fixture
def fresh_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process of this test's own, started with the fault the test sets."""
    monkeypatch.setattr(bench_runner, "Worker", Worker)


def _session(qtbot, tmp_path: Path) -> tuple[Session, Workspace]:  # type: ignore[no-untyped-def]
    session = Session(TINY)
    return session, Workspace(tmp_path / "workspace.json", parent=session)


def _benchmark(qtbot, tmp_path: Path) -> BenchmarkPanel:  # type: ignore[no-untyped-def]
    session, workspace = _session(qtbot, tmp_path)
    panel = BenchmarkPanel(session, workspace)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(panel.is_ready, timeout=TIMEOUT_MS)
    panel.options.select_device("cpu")
    panel.options.warmup_box.setValue(1)
    panel.options.iterations_box.setValue(3)
    return panel


@pytest.mark.parametrize("fault", sorted(WORDS))
def test_the_benchmark_tab_reports_a_dead_worker_and_the_next_run_works(
    fresh_workers: None, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FAULT_ENV, fault)
    if fault == "hang":
        monkeypatch.setenv(STALL_ENV, "3")  # the deadline, short for the test
    panel = _benchmark(qtbot, tmp_path)
    edited = replace(TINY, widths=(8, 24))
    panel.session.propose(edited)  # an edit and its undo history, to be kept
    panel.session.end_burst()
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    report = panel.crash_report
    assert report.isVisible() and report.crash is not None
    summary = report.summary.text()
    assert summary.startswith(WORDS[fault]), summary
    assert "While running: bench of basic [1,1] (cpu, inference, float32, contiguous, batch 1)." in summary
    assert not report.details.isVisible()
    report.toggle.click()
    assert report.details.isVisible() and report.details.toPlainText()
    assert panel.result is None and panel.run_button.isEnabled() and not panel.error.isVisible()
    assert panel.title.text().endswith("— not timed yet")  # no longer "timing…"
    assert panel.latency_page.currentWidget() is panel.latency_page.hint
    assert "appears here as it is timed" not in panel.latency_page.hint.text()
    assert panel.session.spec == edited and panel.session.can_undo()
    monkeypatch.delenv(FAULT_ENV)
    monkeypatch.delenv(STALL_ENV, raising=False)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    assert panel.result is not None and panel.result.ok
    assert not report.isVisible()


def test_a_worker_that_cannot_start_is_said_and_a_later_look_tries_again(
    fresh_workers: None, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FAULT_ENV, "no-start")
    session, workspace = _session(qtbot, tmp_path)
    panel = BenchmarkPanel(session, workspace)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: bool(panel.runner.discovery_problem), timeout=TIMEOUT_MS)
    assert "the worker process could not start" in panel.error.text()
    assert not panel.run_button.isEnabled()
    monkeypatch.delenv(FAULT_ENV)
    panel.hide()
    panel.show()  # coming back to the tab looks for the devices again
    qtbot.waitUntil(lambda: panel.runner.machine is not None, timeout=TIMEOUT_MS)
    assert panel.run_button.isEnabled() and not panel.error.isVisible()


def test_the_profile_and_compare_tabs_report_a_crash_too(
    fresh_workers: None, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FAULT_ENV, "abort")
    session, workspace = _session(qtbot, tmp_path)
    profile = ProfilePanel(session)
    compare = ComparePanel(session, workspace)
    for panel in (profile, compare):
        qtbot.addWidget(panel)
        panel.show()
    qtbot.waitUntil(profile.is_ready, timeout=TIMEOUT_MS)
    profile.options.iterations_box.setValue(2)
    profile.run()
    qtbot.waitUntil(lambda: not profile.busy, timeout=TIMEOUT_MS)
    assert profile.crash_report.isVisible()
    assert profile.crash_report.summary.text().startswith("Torch crashed: SIGABRT")
    assert "profile of" in profile.crash_report.summary.text() and profile.result is None
    compare.add_preset("cifar/resnet20")
    compare.add_preset("cifar/resnet32")
    compare.iterations_box.setValue(1)
    compare.benchmark_all()
    qtbot.waitUntil(lambda: not compare.busy, timeout=TIMEOUT_MS)
    assert compare.crash_report.isVisible()
    assert "timing of cifar/resnet20, cifar/resnet32" in compare.crash_report.summary.text()
    assert len(compare.comparison.variants) == 2  # the user's list is untouched
    monkeypatch.delenv(FAULT_ENV)
    compare.benchmark_all()
    qtbot.waitUntil(lambda: not compare.busy, timeout=TIMEOUT_MS)
    assert all(variant.bench is not None for variant in compare.comparison.variants)
    assert not compare.crash_report.isVisible()


def test_cancel_ends_a_run_stuck_in_the_worker_and_the_next_run_works(
    fresh_workers: None, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(STALL_ENV, "600")  # only the cancel can end it
    monkeypatch.setenv(FAULT_ENV, "hang")
    panel = _benchmark(qtbot, tmp_path)
    panel.run()
    qtbot.waitUntil(lambda: "Starting" not in panel.status.text(), timeout=TIMEOUT_MS)
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)  # not the stall deadline: the cancel
    assert panel.status.text().startswith("Cancelled")
    assert not panel.crash_report.isVisible() and panel.result is None
    monkeypatch.delenv(FAULT_ENV)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    assert panel.result is not None and panel.result.ok


def test_a_run_in_a_fresh_process_reports_that_process_s_own_peak(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    panel = _benchmark(qtbot, tmp_path)
    panel.options.isolated_box.setChecked(True)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    result = panel.result
    assert result is not None and result.ok and result.config.isolated
    assert result.process_peak_bytes is not None and result.process_peak_bytes > 10 * 2**20
    assert "a fresh process of its own" in panel.card.repro.text()
    assert panel.card.cards["peak_memory"].detail.text().startswith("process peak ")
    panel.options.isolated_box.setChecked(False)
    panel.run()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT_MS)
    assert panel.result is not None and panel.result.process_peak_bytes is None


def test_the_cross_check_and_the_export_say_the_worker_crashed(
    fresh_workers: None, qtbot, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.gui.conftest import open_window

    monkeypatch.setenv(FAULT_ENV, "abort")
    window = open_window(qtbot, settings, TINY)
    window.cross_check.start()
    qtbot.waitUntil(lambda: window.cross_check.box is not None, timeout=TIMEOUT_MS)
    assert window.cross_check.box.text().startswith("The cross-check could not run: torch crashed: SIGABRT")
    assert window.cross_check.action.isEnabled()
    dialog = window.export_model()
    dialog.path_edit.setText(str(tmp_path / "model.py"))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT_MS)
    assert dialog.status.text().startswith("The export could not finish: torch crashed: SIGABRT")
    assert not (tmp_path / "model.py").exists() and dialog.export_button.isEnabled()
