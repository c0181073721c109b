"""A stand-in for the worker process that runs each job on the calling thread, in the test's
own process: for tests of what the window does with a job's progress and results under
conditions a test sets up by patching the core (a slow pass, a recorded order). The real
worker process, its crashes included, is tested apart (tests/core/test_worker.py and the
fault tests of the app and the command line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from explorer.core.worker import Job
from explorer.core.worker.jobs import JOBS


class _Reporter:
    def __init__(self, on_event: Callable[..., None], should_stop: Callable[[], bool]) -> None:
        self._on_event = on_event
        self.should_stop = should_stop

    def progress(self, done: int, total: int) -> None:
        self._on_event("progress", done, total)

    def sample(self, seconds: float) -> None:
        self._on_event("samples", [seconds])

    def partial(self, result: Any) -> None:
        self._on_event("partial", result)

    def status(self, text: str) -> None:
        self._on_event("status", text)


class InThreadWorker:
    warm = True
    last_start_s = 0.0

    def run(
        self,
        job: Job,
        on_event: Callable[..., None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        isolated: bool = False,
    ) -> Any:
        reporter = _Reporter(on_event or (lambda *_: None), should_stop or (lambda: False))
        return JOBS[job.kind](reporter, *job.args)

    def close(self) -> None:
        pass


@pytest.fixture
def in_thread_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every runner made from now on runs its jobs in this process (so a patched core applies)."""
    import explorer.cli.worker_run as worker_run
    import explorer.gui.bench_runner as bench_runner

    monkeypatch.setattr(bench_runner, "Worker", InThreadWorker)
    monkeypatch.setattr(worker_run, "shared_worker", InThreadWorker)
