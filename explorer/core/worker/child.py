"""The worker process: ``python -m explorer.core.worker.child``.

It imports torch once, says it is ready, then runs one job at a time as the supervisor
asks (``explorer.core.worker.supervisor``), sending progress and the result back as frames
on its own copy of stdout. File descriptor 1 itself points at stderr from the start, so
whatever native code prints can never be mistaken for a frame; stderr is the supervisor's
to keep for a crash report. A thread reads the requests, so that a cancel arrives while a
job runs; when the supervisor's side of the pipe closes, the process ends.
"""

from __future__ import annotations

import gc
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any, BinaryIO

from explorer.core.worker.faults import FAULT_ENV, inject
from explorer.core.worker.jobs import JOBS, RunCancelled
from explorer.core.worker.protocol import read_frame, write_frame

PROGRESS_INTERVAL_S = 0.03  # a tiny model's thousands of passes a second would flood the pipe
# Each batch of samples redraws the window's latency charts (about 10 ms of the window's
# CPU time, taken from the passes being timed on a 2-core machine): a few a second at most.
SAMPLES_INTERVAL_S = 0.5
PARENT_CHECK_S = 1.0


class PipeReporter:
    """A job's line back to the supervisor: progress throttled, samples batched (the first at
    once, then at most a batch every ``SAMPLES_INTERVAL_S``; what is held at the end is not
    sent: the result carries every sample)."""

    def __init__(
        self,
        out: BinaryIO,
        job_id: int,
        stop: threading.Event,
        fault: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._out = out
        self._id = job_id
        self._stop = stop
        self._fault = fault
        self._last_progress = 0.0
        self._held: list[float] = []
        self._last_samples: float | None = None

    def _send(self, *message: Any) -> None:
        write_frame(self._out, (message[0], self._id, *message[1:]))

    def progress(self, done: int, total: int) -> None:
        if self._fault:
            fault, self._fault = self._fault, ""
            inject(fault, self._out)
        now = self._clock()
        if done >= total or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._send("progress", done, total)

    def sample(self, seconds: float) -> None:
        self._held.append(seconds)
        now = self._clock()
        if self._last_samples is None or now - self._last_samples >= SAMPLES_INTERVAL_S:
            self._last_samples = now
            batch, self._held = self._held, []
            self._send("samples", batch)

    def partial(self, result: Any) -> None:
        self._send("partial", result)

    def status(self, text: str) -> None:
        self._send("status", text)

    def should_stop(self) -> bool:
        return self._stop.is_set()


def peak_resident_bytes() -> int | None:
    """This process's resident-memory high-water mark (Linux), or CUDA's allocator peak."""
    cuda = sys.modules.get("torch.cuda")
    if cuda is not None and cuda.is_initialized():
        return int(cuda.max_memory_allocated())
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _run(job_id: int, kind: str, args: tuple[Any, ...], out: BinaryIO, stop: threading.Event) -> None:
    fault = os.environ.get(FAULT_ENV, "") if kind != "discover" else ""
    reporter = PipeReporter(out, job_id, stop, fault)
    try:
        if fault and kind in ("cross_check", "export"):
            reporter.progress(0, 1)  # these report no progress: the fault strikes at the start
        outcome = JOBS[kind](reporter, *args)
        config = args[1] if len(args) > 1 else None
        if kind == "bench" and getattr(config, "isolated", False):
            outcome = replace(outcome, process_peak_bytes=peak_resident_bytes())
    except RunCancelled:
        write_frame(out, ("cancelled", job_id))
    except BaseException as exc:  # every failure goes back as a message; the traceback to stderr
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        # The exception itself when it is one of the project's (its class tells the caller what
        # kind of mistake), else its words: torch's own classes must not cross the pipe.
        module = type(exc).__module__
        carried = exc if module.startswith("explorer.") else None
        text = str(exc).strip()
        words = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        try:
            write_frame(out, ("error", job_id, carried, words))
        except Exception:  # the exception did not pickle: its words alone
            write_frame(out, ("error", job_id, None, words))
        traceback.clear_frames(exc.__traceback__)
    else:
        write_frame(out, ("result", job_id, outcome))


def _end_with_parent(parent: int) -> None:
    """End when the supervisor's process is gone, even if its end of the pipe stays open (a
    child it started meanwhile may hold it). Not PR_SET_PDEATHSIG: that fires when the
    *thread* that started this process ends, and the app starts it from a passing thread."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(0)


def _read_requests(stdin: BinaryIO, jobs: queue.Queue[Any], current: dict[str, Any]) -> None:
    while True:
        try:
            message = read_frame(stdin)
        except Exception:  # EOF or a broken pipe: the supervisor is gone or done with us
            os._exit(0)
        if message[0] == "cancel":
            running = current.get("job")
            if running is not None and running[0] == message[1]:
                running[1].set()
        elif message[0] == "job":
            jobs.put(message)


def main() -> int:
    # Ctrl-C in a terminal reaches the whole process group: the supervisor decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = os.fdopen(os.dup(0), "rb")
    if os.environ.get(FAULT_ENV) == "no-start":
        print("the worker was told not to start (a test of the start-up failure)", file=sys.stderr)
        return 3
    began = time.perf_counter()
    import torch

    # torch's thousands of objects live as long as the process: out of the collector's passes.
    gc.freeze()
    write_frame(
        out,
        (
            "ready",
            {"pid": os.getpid(), "torch": str(torch.__version__), "import_s": time.perf_counter() - began},
        ),
    )
    jobs: queue.Queue[Any] = queue.Queue()
    current: dict[str, Any] = {}
    threading.Thread(target=_read_requests, args=(stdin, jobs, current), daemon=True).start()
    while True:
        _, job_id, kind, args = jobs.get()
        stop = threading.Event()
        current["job"] = (job_id, stop)
        _run(job_id, kind, args, out, stop)
        current.pop("job", None)


if __name__ == "__main__":
    sys.exit(main())
