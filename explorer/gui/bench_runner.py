"""Finding devices and timing forward passes off the GUI thread, for the Benchmark and Compare tabs.

torch is imported only by the functions that run on worker threads; the GUI thread
gets plain records (devices, results) through queued signals. One runner serves a
window: its jobs run one at a time, in the order asked; cancelling a job sets the
event that the engine asks before every iteration.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from PySide6.QtCore import QCoreApplication, QObject, Signal

from explorer.core.benchtypes import DTYPES, BenchConfig, BenchError, BenchResult, SweepResult
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes
from explorer.gui.workers import describe_error, run_in_thread

PROGRESS_INTERVAL_S = 0.03  # a tiny model's thousands of passes a second would flood the GUI thread
# Each batch redraws the latency charts (about 10 ms of painting on the GUI thread), and
# that CPU time is taken from the passes being timed: on 2 cores, ten redraws a second
# doubled resnet18's p90 latency, two a second move its mean and p90 by 2-4 %.
SAMPLES_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """A device the picker offers: ``dtypes`` can run there, ``unsupported`` says why not."""

    key: str
    kind: str
    name: str
    total_memory: int | None
    dtypes: tuple[str, ...]
    unsupported: tuple[tuple[str, str], ...]  # (dtype, reason)

    @property
    def short_name(self) -> str:
        """The name without trademarks, clock speed or core count: "Intel Xeon Gold 6248"."""
        text = re.sub(r"\((R|TM)\)", "", self.name, flags=re.IGNORECASE)
        text = re.sub(r"\s+(CPU\s*)?@.*$", "", text)
        text = re.sub(r"\b\d+-Core Processor\b", "", text)
        return " ".join(text.split()) or self.name

    @property
    def label(self) -> str:
        """What a device picker shows; ``full_label`` goes in its tooltip."""
        return f"{self.key} — {self.short_name}"

    @property
    def full_label(self) -> str:
        memory = f", {format_bytes(self.total_memory)}" if self.total_memory else ""
        return f"{self.key}: {self.name}{memory}"

    def reason(self, dtype: str) -> str:
        return dict(self.unsupported).get(dtype, "")


@dataclass(frozen=True, slots=True)
class Machine:
    """What discovery found: the devices (best first), torch's default thread count and version."""

    devices: tuple[DeviceChoice, ...]
    default_threads: int
    cpu_count: int
    torch_version: str


def _unsupported_reason(kind: str, dtype: str) -> str:
    if kind == "cpu" and dtype == "float16":
        return "CPU autocast has no fast float16 kernels; bfloat16 is the CPU's reduced precision"
    if kind == "cuda" and dtype == "bfloat16":
        return "this GPU has no bfloat16 support (it needs compute capability 8.0 or newer)"
    if kind == "mps":
        return f"autocast to {dtype} is not available on MPS with this torch version"
    return f"{dtype} is not supported on this device"


def load_torch() -> None:
    """Runs on a worker thread: imports torch (its libraries mapped without the GIL first)."""
    if "torch" in sys.modules:
        return
    from explorer.gui.torch_preload import preload_torch_libraries

    preload_torch_libraries()
    import torch  # noqa: F401

    # torch's thousands of objects live as long as the process: out of the collector's
    # full passes (the engine collects after every run), which would otherwise hold the
    # GIL, and pause the window, for ~90 ms each.
    gc.freeze()


def discover_machine() -> Machine:
    """Runs on a worker thread: finds the devices, importing torch first."""
    load_torch()
    import torch

    from explorer.core.devices import available_devices, best_device, supported_dtypes

    found = available_devices()
    best = best_device()
    ordered = (best, *(device for device in found if device != best))
    choices = []
    for device in ordered:
        dtypes = supported_dtypes(device)
        missing = tuple((d, _unsupported_reason(device.kind, d)) for d in DTYPES if d not in dtypes)
        choices.append(
            DeviceChoice(device.key, device.kind, device.name, device.total_memory, dtypes, missing)
        )
    return Machine(
        devices=tuple(choices),
        default_threads=torch.get_num_threads(),
        cpu_count=os.cpu_count() or 1,
        torch_version=torch.__version__,
    )


JobState = Literal["queued", "running", "done"]


class BenchJob(QObject):
    """One job in the shared runner's queue; its signals reach only whoever submitted it.

    The timing signals are emitted on the benchmark thread and delivered queued on
    the GUI thread, in order; ``finished`` or ``failed`` comes last, or ``withdrawn``
    alone for a job cancelled while it was still waiting its turn.
    """

    started = Signal()
    progressed = Signal(int, int)  # iterations done, iterations in all
    samples_timed = Signal(object)  # list[float]: seconds of the run's latest timed iterations, in order
    partial_result = Signal(object)  # BenchResult: each step of a sweep or of run_each, as it finishes
    finished = Signal(object)  # BenchResult, SweepResult, or how many specs run_each timed
    failed = Signal(str)  # the configuration could not run (BenchError) or the job broke
    withdrawn = Signal()  # cancelled before it started: nothing ran
    ended = Signal(object)  # the job itself, after whichever of the three above
    # Emitted on the benchmark thread; the job lives on the GUI thread, so each arrives
    # there queued, in order, and goes on from there.
    _progressed = Signal(int, int)
    _samples = Signal(object)
    _point = Signal(object)
    _outcome = Signal(object)
    _broke = Signal(str)

    def __init__(self, runner: BenchRunner, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
        super().__init__()
        self._runner = runner
        self.work = work
        self.args = args
        self.stop = threading.Event()
        self.state: JobState = "queued"
        self._progressed.connect(self.progressed)
        self._samples.connect(self.samples_timed)
        self._point.connect(self.partial_result)
        self._outcome.connect(self._deliver_outcome)
        self._broke.connect(self._deliver_failure)

    def _deliver_outcome(self, outcome: object) -> None:
        self._runner._ended(self, self.finished, outcome)

    def _deliver_failure(self, message: str) -> None:
        self._runner._ended(self, self.failed, message)

    @property
    def cancelling(self) -> bool:
        return self.stop.is_set()

    def cancel(self) -> None:
        """A queued job leaves the queue; a running one ends before its next iteration."""
        self._runner.cancel(self)


def _throttled(job: BenchJob) -> Any:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            _emit(job._progressed, done, total)

    return progress


class SampleBatcher:
    """Collects a run's samples on the benchmark thread and hands them on in batches:
    the first at once, then at most one batch every ``interval_s``. Whatever is still
    held at the end is not sent: the finished result carries every sample."""

    def __init__(
        self,
        send: Callable[[list[float]], None],
        interval_s: float = SAMPLES_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval_s = interval_s
        self._clock = clock
        self._held: list[float] = []
        self._last_sent: float | None = None

    def __call__(self, seconds: float) -> None:
        self._held.append(seconds)
        now = self._clock()
        if self._last_sent is None or now - self._last_sent >= self._interval_s:
            self._last_sent = now
            # A new list each time: the one sent is read on the GUI thread later.
            batch, self._held = self._held, []
            self._send(batch)


def _run(spec: ArchSpec, config: BenchConfig, job: BenchJob) -> BenchResult:
    from explorer.core.bench import run_benchmark

    batcher = SampleBatcher(lambda batch: _emit(job._samples, batch))
    return run_benchmark(spec, config, _throttled(job), job.stop.is_set, batcher)


def _sweep(spec: ArchSpec, config: BenchConfig, sizes: Sequence[int], job: BenchJob) -> SweepResult:
    from explorer.core.bench import run_sweep

    return run_sweep(spec, config, sizes, _throttled(job), job.stop.is_set, job._point.emit)


def _each(specs: Sequence[ArchSpec], config: BenchConfig, job: BenchJob) -> int:
    """Times every spec in turn; each result goes out as it finishes. Returns how many ran."""
    load_torch()
    from explorer.core.bench import run_benchmark

    steps = config.warmup + config.iterations
    total = len(specs) * steps
    progress = _throttled(job)
    ran = 0
    for index, spec in enumerate(specs):
        if job.stop.is_set():
            break
        offset = index * steps
        result = run_benchmark(
            spec, config, lambda done, _all, offset=offset: progress(offset + done, total), job.stop.is_set
        )
        _emit(job._point, result)
        ran += 1
    return ran


def _profile(spec: ArchSpec, config: BenchConfig, job: BenchJob) -> object:
    """A per-layer profile, or ``None`` when cancelled."""
    load_torch()
    from explorer.core.profile import ProfileCancelled, profile

    try:
        return profile(spec, config, _throttled(job), job.stop.is_set)
    except ProfileCancelled:
        return None


class BenchRunner(QObject):
    """The one runner of a window: finds the devices once and times one job at a time.

    torch's thread count and cuDNN setting are process-wide, and two timings at once
    would slow each other down: the jobs of every tab wait in one queue.
    """

    machine_found = Signal(object)  # Machine
    discovery_failed = Signal(str)
    queue_changed = Signal()  # a job was queued, started, withdrawn or ended

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.machine: Machine | None = None
        self.discovery_problem = ""
        self._discovering = False
        self._running: BenchJob | None = None
        self._queue: deque[BenchJob] = deque()
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window still ends a run
            app.aboutToQuit.connect(self.cancel_all)

    @property
    def busy(self) -> bool:
        """A job is running or waiting its turn."""
        return self._running is not None or bool(self._queue)

    @property
    def running(self) -> BenchJob | None:
        return self._running

    def discover(self) -> None:
        """Find the devices once, on a worker thread."""
        if self.machine is not None or self._discovering or self.discovery_problem:
            return
        self._discovering = True
        run_in_thread(discover_machine, on_result=self._found, on_error=self._discovery_failed, context=self)

    def _found(self, machine: Machine) -> None:
        self._discovering = False
        self.machine = machine
        self.machine_found.emit(machine)

    def _discovery_failed(self, message: str) -> None:
        self._discovering = False
        self.discovery_problem = message
        self.discovery_failed.emit(message)

    def run(self, spec: ArchSpec, config: BenchConfig) -> BenchJob:
        """Time one configuration."""
        return self._submit(_run, spec, config)

    def sweep(self, spec: ArchSpec, config: BenchConfig, sizes: Sequence[int]) -> BenchJob:
        """Time each batch size in turn, up to the first that fails."""
        return self._submit(_sweep, spec, replace(config, batch_size=sizes[0]), tuple(sizes))

    def run_each(self, specs: Sequence[ArchSpec], config: BenchConfig) -> BenchJob:
        """Time each spec in turn (one progress for all); ``finished`` carries how many ran."""
        return self._submit(_each, tuple(specs), config)

    def profile(self, spec: ArchSpec, config: BenchConfig) -> BenchJob:
        """Time every layer; ``finished`` carries the Profile (None: cancelled)."""
        return self._submit(_profile, spec, config)

    def _submit(self, work: Callable[..., Any], *args: Any) -> BenchJob:
        job = BenchJob(self, work, args)
        self._queue.append(job)
        self._start_next()
        self.queue_changed.emit()
        return job

    def _start_next(self) -> None:
        if self._running is not None or not self._queue:
            return
        job = self._queue.popleft()
        self._running = job
        job.state = "running"
        job.started.emit()
        # A thread of its own, not the shared pool: a run of minutes must not keep the
        # analyses and drawings of the other tabs waiting for a free pool thread.
        threading.Thread(target=_work, args=(job,), name="benchmark").start()

    def _ended(self, job: BenchJob, signal: Any, value: object) -> None:
        job.state = "done"
        self._running = None
        signal.emit(value)
        job.ended.emit(job)
        self._start_next()
        self.queue_changed.emit()

    def cancel(self, job: BenchJob) -> None:
        job.stop.set()
        if job.state == "queued" and job in self._queue:
            self._queue.remove(job)
            job.state = "done"
            job.withdrawn.emit()
            job.ended.emit(job)
            self.queue_changed.emit()

    def cancel_all(self) -> None:
        for job in (*self._queue, *([self._running] if self._running is not None else [])):
            self.cancel(job)


RUNNER_OBJECT = "BenchRunner"


def shared_runner(owner: QObject) -> BenchRunner:
    """The runner shared by the panels of one window (a child of ``owner``)."""
    found = owner.findChild(BenchRunner, RUNNER_OBJECT)
    if found is None:
        found = BenchRunner(owner)
        found.setObjectName(RUNNER_OBJECT)
    return found


def _work(job: BenchJob) -> None:
    """The benchmark thread: its outcome or its failure, as one readable line, goes back queued."""
    try:
        outcome = job.work(*job.args, job)
    except BenchError as exc:  # the person's configuration: its text says what to change
        message = str(exc)
    except Exception as exc:  # anything else stays a message; the app carries on
        message = describe_error(exc)
    else:
        _emit(job._outcome, outcome)
        return
    _emit(job._broke, message)


def _emit(signal: Any, *values: object) -> None:
    with contextlib.suppress(RuntimeError):  # the window was closed meanwhile: nobody is waiting
        signal.emit(*values)
