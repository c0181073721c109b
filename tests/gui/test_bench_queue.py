"""One runner for a window: the Benchmark and Compare tabs take turns, devices are found once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

import explorer.core.bench as bench
import explorer.core.machine as machine_module
from explorer.core.presets import preset
from explorer.gui.app import application
from explorer.gui.panels.benchmark import BenchmarkPanel
from explorer.gui.panels.compare import ComparePanel
from explorer.gui.panels.profile import ProfilePanel
from explorer.gui.session import Session
from explorer.gui.workspace import Workspace

TIMEOUT_MS = 120_000


@pytest.fixture
def tabs(qtbot, tmp_path: Path, in_thread_worker: None) -> tuple[BenchmarkPanel, ComparePanel]:  # type: ignore[no-untyped-def]
    application()
    session = Session(preset("cifar/resnet20"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    benchmark, compare = BenchmarkPanel(session, workspace), ComparePanel(session, workspace)
    for panel in (benchmark, compare):
        qtbot.addWidget(panel)
        panel.show()
    qtbot.waitUntil(benchmark.is_ready, timeout=TIMEOUT_MS)
    benchmark.options.select_device("cpu")
    benchmark.options.warmup_box.setValue(1)
    compare.device_box.setCurrentIndex(compare.device_box.findData("cpu"))
    compare.add_preset("cifar/resnet20")
    compare.add_preset("cifar/resnet32")
    return benchmark, compare


def _recorded_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """("start"|"end", batch size) of every run_benchmark, in the order they happen."""
    real = bench.run_benchmark
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def recorded(spec: Any, config: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            events.append(("start", config.batch_size))
        try:
            return real(spec, config, *args, **kwargs)
        finally:
            with lock:
                events.append(("end", config.batch_size))

    monkeypatch.setattr(bench, "run_benchmark", recorded)
    return events


def test_runs_from_both_tabs_take_turns_and_torchs_settings_come_back(
    qtbot,  # type: ignore[no-untyped-def]
    tabs: tuple[BenchmarkPanel, ComparePanel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    benchmark, compare = tabs
    events = _recorded_runs(monkeypatch)
    before = torch.get_num_threads()
    benchmark.options.batch_box.setValue(3)  # tells its runs from Compare's (batch 1)
    benchmark.options.iterations_box.setValue(30)
    benchmark.options.threads_box.setValue(1)
    compare.iterations_box.setValue(3)
    compare.threads_box.setValue(2)
    benchmark.run()
    compare.benchmark_all()
    assert benchmark.busy and compare.busy
    assert "Waiting for the Benchmark tab" in compare.message.text()
    qtbot.waitUntil(lambda: not benchmark.busy and not compare.busy, timeout=TIMEOUT_MS)
    assert events == [("start", 3), ("end", 3), ("start", 1), ("end", 1), ("start", 1), ("end", 1)]
    assert benchmark.result is not None and benchmark.result.card.threads == 1
    assert all(variant.bench is not None for variant in compare.comparison.variants)
    assert torch.get_num_threads() == before


def test_a_waiting_job_is_cancelled_without_running(
    qtbot,  # type: ignore[no-untyped-def]
    tabs: tuple[BenchmarkPanel, ComparePanel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    benchmark, compare = tabs
    events = _recorded_runs(monkeypatch)
    compare.iterations_box.setValue(1000)
    compare.benchmark_all()
    benchmark.run()
    assert "Waiting for the Compare tab" in benchmark.status.text()
    benchmark.cancel()
    assert not benchmark.busy and benchmark.run_button.isEnabled()
    assert "Cancelled before it started" in benchmark.status.text()
    assert compare.busy  # the other tab's job goes on
    compare.cancel_benchmark()
    qtbot.waitUntil(lambda: not compare.busy, timeout=TIMEOUT_MS)
    assert benchmark.result is None and ("start", 1) in events
    assert all(batch == 1 for _kind, batch in events)  # only Compare's runs ever started
    assert not benchmark.runner.busy


def test_the_devices_are_found_once_for_every_tab_whatever_the_order(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_thread_worker: None
) -> None:  # type: ignore[no-untyped-def]
    real = machine_module.discover_machine
    calls: list[int] = []

    def counted() -> Any:
        calls.append(1)
        return real()

    monkeypatch.setattr(machine_module, "discover_machine", counted)
    application()
    session = Session(preset("cifar/resnet20"))
    workspace = Workspace(tmp_path / "workspace.json", parent=session)
    benchmark = BenchmarkPanel(session, workspace)
    qtbot.addWidget(benchmark)
    benchmark.show()
    qtbot.waitUntil(benchmark.is_ready, timeout=TIMEOUT_MS)
    compare = ComparePanel(session, workspace)  # opened after the devices were found
    qtbot.addWidget(compare)
    compare.show()
    assert compare.runner is benchmark.runner and len(calls) == 1
    machine = benchmark.runner.machine
    assert machine is not None
    listed = [compare.device_box.itemData(i) for i in range(compare.device_box.count())]
    assert listed == ["auto", *(device.key for device in machine.devices)]
    profile = ProfilePanel(session)  # opened after the others found the devices
    qtbot.addWidget(profile)
    profile.show()
    assert profile.runner is benchmark.runner and len(calls) == 1
    assert profile.options.device() is not None and profile.run_button.isEnabled()
    assert "finding devices" not in profile.options.device_box.currentText()


@pytest.mark.parametrize("first", ["Benchmark", "Memory", "Compare"])
def test_in_the_window_the_profile_tab_lists_the_devices_another_tab_found(
    qtbot, settings, first: str
) -> None:  # type: ignore[no-untyped-def]
    from tests.gui.conftest import open_window

    window = open_window(qtbot, settings, preset("cifar/resnet20"))
    window.show_tab(first)
    runner = bench_runner_of(window)
    qtbot.waitUntil(lambda: runner.machine is not None, timeout=TIMEOUT_MS)
    profile = window.show_tab("Profile")
    assert isinstance(profile, ProfilePanel)
    assert profile.options.device() is not None and profile.run_button.isEnabled()
    assert profile.options.device_box.currentText() != "finding devices…"


def bench_runner_of(window: Any) -> Any:
    from explorer.gui.bench_runner import shared_runner

    return shared_runner(window.session)
