"""The side that asks: starts the worker process, hands it jobs, watches it.

``Worker.run(job)`` blocks its caller (a command, or a window's benchmark thread, never
the GUI thread) until the job's result comes back, passing progress on as it arrives.
Whatever happens to the process, the caller gets an answer: the result; the job's own
error, raised again here; ``RunCancelled``; or ``WorkerCrashed``, which says what was
running, how the process ended ("torch crashed: SIGABRT, heap corruption") and the last
lines it wrote on stderr. After a crash, a hang or a kill the next run starts a fresh
process; a warm one is reused.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from explorer.core.worker.endings import describe_ending, oom_kill_count
from explorer.core.worker.faults import STALL_ENV
from explorer.core.worker.jobs import STALL_FACTOR, Job, RunCancelled
from explorer.core.worker.protocol import BadFrame, read_frame, write_frame

# Importing torch from a cold disk takes tens of seconds on a slow machine.
START_TIMEOUT_S = 180.0
# A cancelled job that has not stopped by then is ended with its process: with the wait for
# the answer and the process's end, a cancel is answered within half a second.
CANCEL_GRACE_S = 0.25
POLL_S = 0.05
STDERR_LINES_KEPT = 200
STDERR_LINES_SHOWN = 30
CHILD_MODULE = "explorer.core.worker.child"

Event = tuple[Any, ...]
OnEvent = Callable[..., None]


class WorkerCrashed(Exception):
    """The worker process ended, hung or misbehaved before the job's result came."""

    def __init__(self, what: str, how: str, stderr_tail: tuple[str, ...] = ()) -> None:
        super().__init__(f"{what}: {how}")
        self.what = what
        self.how = how
        self.stderr_tail = stderr_tail


class JobFailed(Exception):
    """The job raised an error that is not one of the project's (torch's own, say): its words."""


@dataclass
class _Process:
    popen: subprocess.Popen[bytes]
    inbox: queue.Queue[Any] = field(default_factory=queue.Queue)
    stderr: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=STDERR_LINES_KEPT)
    )
    ready: threading.Event = field(default_factory=threading.Event)
    info: dict[str, Any] = field(default_factory=dict)
    oom_kills_before: int | None = None
    started_at: float = field(default_factory=time.monotonic)
    readers: list[threading.Thread] = field(default_factory=list)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self) -> tuple[str, ...]:
        for reader in self.readers:
            reader.join(timeout=1.0)  # the last lines of a dead process, read to the end
        return tuple(self.stderr)[-STDERR_LINES_SHOWN:]

    def kill(self) -> None:
        if self.alive():
            self.popen.kill()
        self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _read_frames(process: _Process) -> None:
    assert process.popen.stdout is not None
    while True:
        try:
            message = read_frame(process.popen.stdout)  # type: ignore[arg-type]
        except EOFError:
            process.inbox.put(("ended",))
            return
        except (BadFrame, OSError, ValueError) as exc:
            process.inbox.put(("bad", str(exc)))
            return
        if not isinstance(message, tuple) or not message or not isinstance(message[0], str):
            process.inbox.put(("bad", f"the pipe carried {type(message).__name__}, not a message"))
            return
        if message[0] == "ready":
            process.info = dict(message[1])
            process.ready.set()
        else:
            process.inbox.put(message)


def _read_stderr(process: _Process) -> None:
    assert process.popen.stderr is not None
    for raw in process.popen.stderr:
        process.stderr.append(raw.decode(errors="replace").rstrip("\n"))


def _stall_limit_s(job: Job, longest_gap_s: float | None) -> float:
    override = os.environ.get(STALL_ENV)
    if override:
        return float(override)
    # Never below the run's own estimate: a run whose steps are uneven (an export's tracing,
    # then its checks) may go longer without a word than its first steps suggest.
    if longest_gap_s is None:
        return job.first_step_s
    return max(job.first_step_s, STALL_FACTOR * longest_gap_s)


LIVE_WORKERS: weakref.WeakSet[Worker] = weakref.WeakSet()


@atexit.register
def close_all() -> None:
    """End every worker process this process started (at exit, and between tests)."""
    for worker in list(LIVE_WORKERS):
        worker.close()


class Worker:
    """One warm worker process, started on first need; ``isolated`` runs get one of their own."""

    def __init__(self, python: str = sys.executable) -> None:
        LIVE_WORKERS.add(self)
        self._python = python
        self._job_ids = itertools.count(1)
        self._process: _Process | None = None
        self._lock = threading.Lock()
        self.last_start_s: float | None = None
        """How long the last process took from its start to ready (its torch import included)."""

    @property
    def warm(self) -> bool:
        return self._process is not None and self._process.ready.is_set() and self._process.alive()

    def _start(self) -> _Process:
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        popen = subprocess.Popen(
            [self._python, "-m", CHILD_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        process = _Process(popen, oom_kills_before=oom_kill_count())
        for target in (_read_frames, _read_stderr):
            reader = threading.Thread(target=target, args=(process,), daemon=True, name=target.__name__)
            reader.start()
            process.readers.append(reader)
        return process

    def close(self) -> None:
        """End the warm process (it holds nothing worth waiting for)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            _close(process)

    def run(
        self,
        job: Job,
        on_event: OnEvent | None = None,
        should_stop: Callable[[], bool] | None = None,
        isolated: bool = False,
    ) -> Any:
        """Run ``job`` in the worker and return its result (see the module's text for the rest).

        ``on_event(kind, *values)`` gets "starting", "progress" (done, total), "samples"
        (seconds), "partial" (a result), "status" (words); ``should_stop()`` is asked often,
        and a true answer cancels the job (ending the process if it does not stop at once).
        """
        emit = on_event or (lambda *_event: None)
        stop = should_stop or (lambda: False)
        with self._lock:
            if isolated:
                process = self._start()
            else:
                if self._process is None or not self._process.alive():
                    if self._process is not None:
                        self._process.kill()
                    self._process = self._start()
                process = self._process
            try:
                self._wait_ready(process, job, emit, stop)
                return self._exchange(process, job, emit, stop)
            finally:
                if isolated:
                    _close(process)
                elif not process.alive():
                    process.kill()
                    self._process = None

    def _wait_ready(self, process: _Process, job: Job, emit: OnEvent, stop: Callable[[], bool]) -> None:
        if process.ready.is_set():
            return
        emit("starting")
        while not process.ready.wait(POLL_S):
            if stop():
                # The start goes on for the next run; this one ends here.
                raise RunCancelled
            if not process.alive() or not process.inbox.empty():
                ending = self._ending(process).replace("the worker process exited", "it exited")
                ending = ending.removesuffix(" without a result")
                raise WorkerCrashed(job.what, f"the worker process could not start: {ending}", process.tail())
            if time.monotonic() - process.started_at > START_TIMEOUT_S:
                process.kill()
                raise WorkerCrashed(
                    job.what,
                    f"the worker process did not start within {START_TIMEOUT_S:.0f} s (importing torch)",
                    process.tail(),
                )
        self.last_start_s = time.monotonic() - process.started_at
        emit("started", dict(process.info))

    def _ending(self, process: _Process) -> str:
        try:
            message = process.inbox.get_nowait()
        except queue.Empty:
            message = ("ended",)
        if message[0] == "bad":
            process.kill()
            return f"it sent something that is not a result ({message[1]})"
        try:
            code = process.popen.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            process.kill()
            return "it closed its pipe and had to be ended"
        after = oom_kill_count()
        oom = after is not None and process.oom_kills_before is not None and after > process.oom_kills_before
        return describe_ending(code, tuple(process.stderr), oom)

    def _exchange(self, process: _Process, job: Job, emit: OnEvent, stop: Callable[[], bool]) -> Any:
        job_id = next(self._job_ids)
        assert process.popen.stdin is not None
        try:
            write_frame(process.popen.stdin, ("job", job_id, job.kind, job.args))  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            raise WorkerCrashed(job.what, self._ending(process), process.tail()) from None
        last_sign = time.monotonic()
        longest_gap: float | None = None
        cancel_sent: float | None = None
        while True:
            now = time.monotonic()
            if cancel_sent is None and stop():
                cancel_sent = now
                with contextlib.suppress(OSError):
                    write_frame(process.popen.stdin, ("cancel", job_id))  # type: ignore[arg-type]
            elif cancel_sent is not None and now - cancel_sent > CANCEL_GRACE_S:
                process.kill()
                raise RunCancelled
            limit = _stall_limit_s(job, longest_gap)
            if cancel_sent is None and now - last_sign > limit:
                process.kill()
                raise WorkerCrashed(
                    job.what,
                    f"it made no progress for {limit:.0f} s (the run's own estimate allowed that long), "
                    "so it was ended: a hang inside torch, or a machine far slower than expected",
                    process.tail(),
                )
            try:
                message = process.inbox.get(timeout=POLL_S)
            except queue.Empty:
                continue
            kind = message[0]
            if kind in ("ended", "bad"):
                process.inbox.put(message)
                ending = self._ending(process)
                if cancel_sent is not None:
                    raise RunCancelled
                raise WorkerCrashed(job.what, ending, process.tail())
            if message[1] != job_id:
                continue  # a late word of a job this side gave up on
            now = time.monotonic()
            gap = now - last_sign
            longest_gap = gap if longest_gap is None else max(longest_gap, gap)
            last_sign = now
            if kind == "result":
                return message[2]
            if kind == "cancelled":
                raise RunCancelled
            if kind == "error":
                carried, words = message[2], message[3]
                if isinstance(carried, Exception):
                    raise carried
                raise JobFailed(words)
            emit(kind, *message[2:])


def _close(process: _Process) -> None:
    if process.popen.stdin is not None:
        with contextlib.suppress(OSError):
            process.popen.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.popen.wait(timeout=0.5)
    process.kill()
