"""The window's line to the worker process: finding devices, timing, profiling, checking, exporting.

Every real model runs in the worker process (``explorer.core.worker``): torch is never
imported into the window's process, and a crash, a hang or a kill of the worker is a job's
failure with its report (``BenchJob.crash``), never the window's end. One runner serves a
window: its jobs run one at a time, in the order asked, each waited on by a thread of its
own that passes the worker's progress on as queued signals; cancelling a job asks the worker
to stop, and ends the process if it does not stop at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QCoreApplication, QObject, Signal

from explorer.core.benchtypes import BenchConfig, BenchError
from explorer.core.machine import DeviceChoice, Machine
from explorer.core.spec import ArchSpec
from explorer.core.worker import Job, JobFailed, RunCancelled, Worker, WorkerCrashed
from explorer.core.worker import jobs as worker_jobs
from explorer.gui.app_wording import in_app_words
from explorer.gui.workers import describe_error

__all__ = ["BenchJob", "BenchRunner", "DeviceChoice", "Machine", "shared_runner"]

STARTING_TEXT = "starting the timing process (loading torch)…"


JobState = Literal["queued", "running", "done"]


class BenchJob(QObject):
    """One job in the shared runner's queue; its signals reach only whoever submitted it.

    The timing signals are emitted on the job's thread and delivered queued on the GUI
    thread, in order; ``finished`` or ``failed`` comes last, or ``withdrawn`` alone for a
    job cancelled while it was still waiting its turn. ``finished(None)`` is a job that was
    cancelled with nothing to show. A job whose worker process crashed, hung or was killed
    fails with ``crash`` set: what was running, how it ended, the process's last stderr lines.
    """

    started = Signal()
    status_changed = Signal(str)  # what the worker is doing, in words ("starting the timing process…")
    progressed = Signal(int, int)  # iterations done, iterations in all
    samples_timed = Signal(object)  # list[float]: seconds of the run's latest timed iterations, in order
    partial_result = Signal(object)  # BenchResult: each step of a sweep or of run_each, as it finishes
    finished = Signal(object)  # the job's result (BenchResult, SweepResult, Profile…), None if cancelled
    failed = Signal(str)  # the configuration could not run, the job broke, or the worker crashed
    withdrawn = Signal()  # cancelled before it started: nothing ran
    ended = Signal(object)  # the job itself, after whichever of the three above
    # Emitted on the job's thread; the job lives on the GUI thread, so each arrives
    # there queued, in order, and goes on from there.
    _status = Signal(str)
    _progressed = Signal(int, int)
    _samples = Signal(object)
    _point = Signal(object)
    _outcome = Signal(object)
    _broke = Signal(str)

    def __init__(self, runner: BenchRunner, work: Job, isolated: bool = False) -> None:
        super().__init__()
        self._runner = runner
        self.work = work
        self.isolated = isolated
        self.stop = threading.Event()
        self.state: JobState = "queued"
        self.crash: WorkerCrashed | None = None
        self._status.connect(self.status_changed)
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
        """A queued job leaves the queue; a running one ends at once (its process with it if need be)."""
        self._runner.cancel(self)

    def _event(self, kind: str, *values: Any) -> None:
        """The worker's progress, on the job's thread: passed on as queued signals."""
        if kind == "starting":
            _emit(self._status, STARTING_TEXT)
        elif kind == "progress":
            _emit(self._progressed, *values)
        elif kind == "samples":
            _emit(self._samples, values[0])
        elif kind == "partial":
            _emit(self._point, values[0])
        elif kind == "status":
            _emit(self._status, values[0])


class BenchRunner(QObject):
    """The one runner of a window: finds the devices once and runs one job at a time.

    torch's thread count and cuDNN setting are process-wide, and two timings at once
    would slow each other down: the jobs of every tab wait in one queue.
    """

    machine_found = Signal(object)  # Machine
    discovery_failed = Signal(str)
    queue_changed = Signal()  # a job was queued, started, withdrawn or ended
    _discovered = Signal(object)  # emitted on the discovery's thread, delivered queued

    def __init__(self, parent: QObject | None = None, worker: Worker | None = None) -> None:
        super().__init__(parent)
        self.worker = worker or Worker()
        self.machine: Machine | None = None
        self.discovery_problem = ""
        self._discovering = False
        self._running: BenchJob | None = None
        self._queue: deque[BenchJob] = deque()
        self._discovered.connect(self._found)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window still ends a run and the worker
            app.aboutToQuit.connect(self.shut_down)

    @property
    def busy(self) -> bool:
        """A job is running or waiting its turn."""
        return self._running is not None or bool(self._queue)

    @property
    def running(self) -> BenchJob | None:
        return self._running

    @property
    def discovering(self) -> bool:
        """The devices are being looked for (the worker process starting, on first need)."""
        return self._discovering

    def discover(self) -> None:
        """Find the devices once, in the worker process (started then, off the GUI thread).

        After a failure (no torch, a worker that could not start) the next call tries again."""
        if self.machine is not None or self._discovering:
            return
        self._discovering = True
        self.discovery_problem = ""
        # A plain thread, not the pool's: the pool's first use imports superqt on the GUI thread.
        threading.Thread(
            target=_discovery, args=(self.worker, self._discovered), name="discovery", daemon=True
        ).start()

    def _found(self, outcome: Machine | str) -> None:
        if isinstance(outcome, str):
            self._discovery_failed(outcome)
            return
        self._discovering = False
        self.discovery_problem = ""
        self.machine = outcome
        self.machine_found.emit(outcome)

    def _discovery_failed(self, message: str) -> None:
        self._discovering = False
        self.discovery_problem = message
        self.discovery_failed.emit(message)

    def run(self, spec: ArchSpec, config: BenchConfig) -> BenchJob:
        """Time one configuration (in a fresh process of its own if ``config.isolated``)."""
        return self._submit(worker_jobs.bench_job(spec, config), isolated=config.isolated)

    def sweep(self, spec: ArchSpec, config: BenchConfig, sizes: Sequence[int]) -> BenchJob:
        """Time each batch size in turn, up to the first that fails."""
        config = replace(config, batch_size=sizes[0])
        return self._submit(worker_jobs.sweep_job(spec, config, tuple(sizes)), isolated=config.isolated)

    def run_each(
        self, specs: Sequence[ArchSpec], config: BenchConfig, names: Sequence[str] | None = None
    ) -> BenchJob:
        """Time each spec in turn (one progress for all); ``finished`` carries how many ran."""
        return self._submit(worker_jobs.bench_each_job(tuple(specs), config, names))

    def profile(self, spec: ArchSpec, config: BenchConfig) -> BenchJob:
        """Time every layer; ``finished`` carries the Profile (None: cancelled)."""
        return self._submit(worker_jobs.profile_job(spec, config), isolated=config.isolated)

    def cross_check(self, spec: ArchSpec) -> BenchJob:
        """torchsummary on the built model; ``finished`` carries the CrossCheck."""
        return self._submit(worker_jobs.cross_check_job(spec))

    def export(self, spec: ArchSpec, path: Path, weights: str, opset: int) -> BenchJob:
        """Export and verify the model; ``finished`` carries the ExportResult."""
        return self._submit(worker_jobs.export_job(spec, path, weights, opset))

    def _submit(self, work: Job, isolated: bool = False) -> BenchJob:
        job = BenchJob(self, work, isolated)
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
        threading.Thread(target=_work, args=(self.worker, job), name="benchmark", daemon=True).start()

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

    def shut_down(self) -> None:
        """Cancel everything and end the worker process."""
        self.cancel_all()
        self.worker.close()


RUNNER_OBJECT = "BenchRunner"


def shared_runner(owner: QObject) -> BenchRunner:
    """The runner shared by the panels of one window (a child of ``owner``)."""
    found = owner.findChild(BenchRunner, RUNNER_OBJECT)
    if found is None:
        found = BenchRunner(owner)
        found.setObjectName(RUNNER_OBJECT)
    return found


def _discovery(worker: Worker, found: Any) -> None:
    """The discovery's thread: the machine, or why not, goes back queued."""
    _emit(found, _discover(worker))


def _discover(worker: Worker) -> Machine | str:
    """The machine, or why it could not be found, in words (the worker's crash report's first line)."""
    try:
        machine: Machine = worker.run(worker_jobs.DISCOVER)
    except WorkerCrashed as crash:
        return f"the timing process failed: {crash.how}"
    except Exception as exc:
        return describe_error(exc)
    return machine


def _work(worker: Worker, job: BenchJob) -> None:
    """The job's thread: its outcome, or its failure as one readable line, goes back queued."""
    outcome: object = None
    try:
        outcome = worker.run(job.work, job._event, job.stop.is_set, isolated=job.isolated)
    except RunCancelled:
        outcome = None  # cancelled with nothing to show: finished(None)
    except WorkerCrashed as crash:
        job.crash = crash
        _emit(job._broke, str(crash))
        return
    except (BenchError, JobFailed) as exc:  # the configuration, or the device: its text says what
        _emit(job._broke, in_app_words(str(exc)))
        return
    except Exception as exc:  # the job's own errors (an export's, a cross-check's) stay messages
        own = type(exc).__module__.startswith("explorer.")
        _emit(job._broke, in_app_words(str(exc)) if own else describe_error(exc))
        return
    _emit(job._outcome, outcome)


def _emit(signal: Any, *values: object) -> None:
    with contextlib.suppress(RuntimeError):  # the window was closed meanwhile: nobody is waiting
        signal.emit(*values)
