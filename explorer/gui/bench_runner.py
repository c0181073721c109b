"""Finding devices and timing forward passes off the GUI thread, for the Benchmark tab.

torch is imported only by the functions that run on worker threads; the GUI thread
gets plain records (devices, results) through queued signals. One job runs at a
time; ``cancel`` sets the event that the engine asks before every iteration.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal

from explorer.core.benchtypes import DTYPES, BenchConfig, BenchError, BenchResult, SweepResult
from explorer.core.spec import ArchSpec
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
    def label(self) -> str:
        return f"{self.key} — {self.name}"

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


class _Relay(QObject):
    """Signals emitted on the worker thread, delivered queued on the GUI thread."""

    progressed = Signal(int, int)
    samples = Signal(object)  # list[float]: timed iterations' seconds since the last batch
    point = Signal(object)  # BenchResult of one step of a sweep or of run_each
    done = Signal(object)  # BenchResult or SweepResult
    broke = Signal(str)


def _throttled(relay: _Relay) -> Any:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            relay.progressed.emit(done, total)

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


def _run(spec: ArchSpec, config: BenchConfig, relay: _Relay, stop: threading.Event) -> BenchResult:
    from explorer.core.bench import run_benchmark

    batcher = SampleBatcher(lambda batch: _emit(relay.samples, batch))
    return run_benchmark(spec, config, _throttled(relay), stop.is_set, batcher)


def _sweep(
    spec: ArchSpec, config: BenchConfig, sizes: Sequence[int], relay: _Relay, stop: threading.Event
) -> SweepResult:
    from explorer.core.bench import run_sweep

    return run_sweep(spec, config, sizes, _throttled(relay), stop.is_set, relay.point.emit)


def _each(specs: Sequence[ArchSpec], config: BenchConfig, relay: _Relay, stop: threading.Event) -> int:
    """Times every spec in turn; each result goes out as it finishes. Returns how many ran."""
    load_torch()
    from explorer.core.bench import run_benchmark

    steps = config.warmup + config.iterations
    total = len(specs) * steps
    progress = _throttled(relay)
    ran = 0
    for index, spec in enumerate(specs):
        if stop.is_set():
            break
        offset = index * steps
        result = run_benchmark(
            spec, config, lambda done, _all, offset=offset: progress(offset + done, total), stop.is_set
        )
        _emit(relay.point, result)
        ran += 1
    return ran


class BenchRunner(QObject):
    machine_found = Signal(object)  # Machine
    discovery_failed = Signal(str)
    progressed = Signal(int, int)  # iterations done, iterations in all
    samples_timed = Signal(object)  # list[float]: seconds of the run's latest timed iterations, in order
    partial_result = Signal(object)  # BenchResult: each step of a sweep or of run_each, as it finishes
    finished = Signal(object)  # BenchResult or SweepResult
    failed = Signal(str)  # the configuration could not run (BenchError) or the job broke

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.machine: Machine | None = None
        self._discovering = False
        self._stop: threading.Event | None = None
        self._relay = _Relay(self)
        self._relay.progressed.connect(self.progressed)
        self._relay.samples.connect(self.samples_timed)
        self._relay.point.connect(self.partial_result)
        self._relay.done.connect(self._done)
        self._relay.broke.connect(self._broke)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window still ends a run
            app.aboutToQuit.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self._stop is not None

    @property
    def cancelling(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def discover(self) -> None:
        """Find the devices once, on a worker thread."""
        if self.machine is not None or self._discovering:
            return
        self._discovering = True
        run_in_thread(
            discover_machine,
            on_result=self._found,
            on_error=self._discovery_failed,
            context=self,
        )

    def _found(self, machine: Machine) -> None:
        self._discovering = False
        self.machine = machine
        self.machine_found.emit(machine)

    def _discovery_failed(self, message: str) -> None:
        self._discovering = False
        self.discovery_failed.emit(message)

    def run(self, spec: ArchSpec, config: BenchConfig) -> bool:
        """Time one configuration; False if a job is already running."""
        return self._start(_run, spec, config)

    def sweep(self, spec: ArchSpec, config: BenchConfig, sizes: Sequence[int]) -> bool:
        """Time each batch size in turn, up to the first that fails."""
        return self._start(_sweep, spec, replace(config, batch_size=sizes[0]), tuple(sizes))

    def run_each(self, specs: Sequence[ArchSpec], config: BenchConfig) -> bool:
        """Time each spec in turn (one progress for all); ``finished`` carries how many ran."""
        return self._start(_each, tuple(specs), config)

    def _start(self, job: Any, *args: Any) -> bool:
        if self._stop is not None:
            return False
        stop = threading.Event()
        self._stop = stop
        # A thread of its own, not the shared pool: a run of minutes must not keep the
        # analyses and drawings of the other tabs waiting for a free pool thread.
        thread = threading.Thread(
            target=_work, args=(job, (*args, self._relay, stop), self._relay), name="benchmark"
        )
        thread.start()
        return True

    def cancel(self) -> None:
        """The running job ends before its next iteration."""
        if self._stop is not None:
            self._stop.set()

    def _done(self, outcome: object) -> None:
        self._stop = None
        self.finished.emit(outcome)

    def _broke(self, message: str) -> None:
        self._stop = None
        self.failed.emit(message)


def _work(job: Any, args: tuple[Any, ...], relay: _Relay) -> None:
    """The benchmark thread: its outcome or its failure, as one readable line, goes back queued."""
    try:
        outcome = job(*args)
    except BenchError as exc:  # the person's configuration: its text says what to change
        message = str(exc)
    except Exception as exc:  # anything else stays a message; the app carries on
        message = describe_error(exc)
    else:
        _emit(relay.done, outcome)
        return
    _emit(relay.broke, message)


def _emit(signal: Any, value: object) -> None:
    with contextlib.suppress(RuntimeError):  # the tab was closed meanwhile: nobody is waiting
        signal.emit(value)
