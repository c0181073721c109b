"""Running a job of the command line in the worker process, as the app does.

torch never runs in the command's own process: a native crash, a hang or a kill of the
worker becomes one line on stderr and exit status 1 (``RunFailed``), never a core dump or
a traceback. Ctrl-C cancels the job; the worker stops at once (ended if need be).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from explorer.cli.errors import RunFailed
from explorer.core.worker import Job, JobFailed, RunCancelled, Worker, WorkerCrashed

Progress = Callable[[int, int], None]
_warm: list[Worker] = []


def shared_worker() -> Worker:
    """The command's worker: started on the first job, ended when the command exits."""
    if not _warm:
        _warm.append(Worker())
    return _warm[0]


@contextmanager
def interrupt_flag() -> Iterator[Callable[[], bool]]:
    """Ctrl-C asks the run to stop (the worker answers within half a second) instead of
    tearing the command down mid-way."""
    pressed: list[bool] = []

    def on_interrupt(_signum: int, _frame: object) -> None:
        pressed.append(True)

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False  # only the main thread may take over signals
        return
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_job(
    job: Job,
    progress: Progress | None = None,
    on_partial: Callable[[Any], None] | None = None,
    isolated: bool = False,
    on_status: Callable[[str], None] | None = None,
    failed_prefix: str = "",
) -> Any:
    """``job``'s result from a worker process of this command's own.

    Raises ``KeyboardInterrupt`` when Ctrl-C cancelled it, ``RunFailed`` when the worker
    crashed, hung or was killed (its words and last stderr line), and the job's own errors
    (a ``BenchError``, an ``ExportError``…) as they are.
    """

    def on_event(kind: str, *values: Any) -> None:
        if kind == "progress" and progress is not None:
            progress(*values)
        elif kind == "partial" and on_partial is not None:
            on_partial(values[0])
        elif kind == "status" and on_status is not None:
            on_status(values[0])

    worker = shared_worker()
    try:
        with interrupt_flag() as interrupted:
            return worker.run(job, on_event, interrupted, isolated=isolated)
    except RunCancelled:
        raise KeyboardInterrupt from None
    except WorkerCrashed as crash:
        last = next((line for line in reversed(crash.stderr_tail) if line.strip()), "")
        raise RunFailed(f"{crash}" + (f" (its last words: {last.strip()})" if last else "")) from None
    except JobFailed as exc:
        raise RunFailed(f"{failed_prefix}{exc}") from None
