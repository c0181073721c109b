"""The worker process: results come back as the core's records; a crash, a hang, a kill,
garbage on the pipe, an exit without a result and a failed start each come back as a
``WorkerCrashed`` that says what was running and how it ended; the next run works."""

from __future__ import annotations

import fractions
import io
import pickle
import signal
import threading
import time
from pathlib import Path

import pytest

from explorer.core.benchtypes import BenchConfig, BenchError, BenchResult
from explorer.core.spec import ArchSpec
from explorer.core.worker import RunCancelled, Worker, WorkerCrashed, jobs
from explorer.core.worker.child import PipeReporter
from explorer.core.worker.endings import describe_ending
from explorer.core.worker.faults import FAULT_ENV, STALL_ENV
from explorer.core.worker.protocol import BadFrame, encode, read_frame

TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=10)
CONFIG = BenchConfig(device="cpu", warmup=1, iterations=3)


@pytest.fixture
def worker() -> Worker:
    made = Worker()
    yield made
    made.close()


def test_a_run_comes_back_as_the_cores_result_with_its_progress(worker: Worker) -> None:
    events: list[tuple[object, ...]] = []
    result = worker.run(jobs.bench_job(TINY, CONFIG, "tiny"), lambda *event: events.append(event))
    assert isinstance(result, BenchResult) and result.ok and result.stats is not None
    assert len(result.stats.samples_s) == 3 and result.spec == TINY and result.config == CONFIG
    kinds = [event[0] for event in events]
    assert kinds[:2] == ["starting", "started"] and ("progress", 4, 4) in events
    assert sum(len(event[1]) for event in events if event[0] == "samples") >= 1
    # Warm: the second run reuses the process without starting it again.
    events.clear()
    assert worker.run(jobs.bench_job(TINY, CONFIG)).ok
    assert "starting" not in [event[0] for event in events]


def test_the_jobs_own_errors_come_back_as_themselves(worker: Worker) -> None:
    with pytest.raises(BenchError, match="cuda:7"):
        worker.run(jobs.bench_job(TINY, BenchConfig(device="cuda:7")))
    assert worker.run(jobs.bench_job(TINY, CONFIG)).ok  # the same process goes on


FAULT_WORDS = {
    "abort": "torch crashed: SIGABRT",
    "segfault": "torch crashed: SIGSEGV, segmentation fault",
    "kill": "killed (SIGKILL)",
    "garbage": "it sent something that is not a result",
    "exit": "the worker process exited without a result",
    "no-start": "the worker process could not start: it exited with status 3",
    "hang": "it made no progress for 3 s",
}


@pytest.mark.parametrize("fault", sorted(FAULT_WORDS))
def test_every_way_the_worker_can_fail_is_a_clear_report_and_the_next_run_works(
    worker: Worker, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, fault)
    if fault == "hang":
        monkeypatch.setenv(STALL_ENV, "3")  # the deadline, short for the test
    with pytest.raises(WorkerCrashed) as raised:
        worker.run(jobs.bench_job(TINY, CONFIG, "tiny"))
    crash = raised.value
    assert crash.what == "bench of tiny (cpu, inference, float32, contiguous, batch 1)"
    assert crash.how.startswith(FAULT_WORDS[fault])
    assert str(crash) == f"{crash.what}: {crash.how}"
    if fault == "no-start":
        assert "told not to start" in "\n".join(crash.stderr_tail)
    monkeypatch.delenv(FAULT_ENV)
    monkeypatch.delenv(STALL_ENV, raising=False)
    assert worker.run(jobs.bench_job(TINY, CONFIG)).ok


def test_cancel_ends_a_run_stuck_where_it_cannot_hear_it(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker.run(jobs.bench_job(TINY, CONFIG))  # warm, so the fault's process is a fresh one below
    worker.close()
    monkeypatch.setenv(FAULT_ENV, "hang")
    stop = threading.Event()
    progressed = threading.Event()
    threading.Timer(30, stop.set).start()  # a bound for a broken test, not a timing

    def on_event(kind: str, *_values: object) -> None:
        if kind == "started":
            progressed.set()
            threading.Timer(0.5, stop.set).start()

    with pytest.raises(RunCancelled):
        worker.run(jobs.bench_job(TINY, CONFIG), on_event, stop.is_set)
    assert progressed.is_set()
    monkeypatch.delenv(FAULT_ENV)
    assert worker.run(jobs.bench_job(TINY, CONFIG)).ok


def test_an_isolated_run_measures_its_own_process_and_leaves_the_warm_one(worker: Worker) -> None:
    worker.run(jobs.bench_job(TINY, CONFIG))
    assert worker.warm
    config = BenchConfig(device="cpu", warmup=1, iterations=2, isolated=True)
    events: list[str] = []
    result = worker.run(jobs.bench_job(TINY, config), lambda kind, *_: events.append(kind), isolated=True)
    assert events[0] == "starting"  # a process of its own, started for it
    assert result.ok and result.process_peak_bytes is not None and result.process_peak_bytes > 10 * 2**20
    assert worker.warm  # the warm process is still there for the next ordinary run
    plain = worker.run(jobs.bench_job(TINY, CONFIG))
    assert plain.process_peak_bytes is None


def test_the_stall_deadline_comes_from_the_runs_own_estimate() -> None:
    small = jobs.first_step_s(TINY, CONFIG)
    big = ArchSpec(block="bottleneck", depths=(3, 8, 36, 3), stem="imagenet", input_size=(224, 224))
    large = jobs.first_step_s(big, BenchConfig(batch_size=256))
    assert small == jobs.MIN_STALL_S  # a tiny network: the floor
    assert large > 20 * 60  # resnet152 at batch 256 on a slow machine: minutes a pass
    assert jobs.first_step_s(TINY, BenchConfig(compile=True)) == small + jobs.COMPILE_ALLOWANCE_S
    training = jobs.first_step_s(big, BenchConfig(batch_size=256, mode="train"))
    assert training == pytest.approx(3 * large)


def test_the_pipe_refuses_garbage_and_classes_outside_the_project() -> None:
    with pytest.raises(BadFrame, match="not a frame"):
        read_frame(io.BytesIO(b"Traceback (most recent call last):\n"))
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(b""))
    foreign = encode(Path("/tmp"))
    assert read_frame(io.BytesIO(foreign)) == Path("/tmp")  # a standard record is fine
    with pytest.raises(BadFrame, match="not one of the project's records"):
        read_frame(io.BytesIO(encode(fractions.Fraction(1, 3))))  # what a torch tensor would be
    truncated = encode(("result", 1, "x"))[:-3]
    with pytest.raises(BadFrame, match="ended"):
        read_frame(io.BytesIO(truncated))
    assert pickle.loads(encode(("ok",))[12:]) == ("ok",)


def test_how_a_process_ended_is_said_in_words() -> None:
    heap = ["free(): invalid next size (normal)"]
    assert describe_ending(-signal.SIGABRT, heap, False) == "torch crashed: SIGABRT, heap corruption"
    assert describe_ending(-signal.SIGABRT, ["double free or corruption (out)"], False).endswith(
        "heap corruption"
    )
    assert (
        describe_ending(-signal.SIGILL, [], False)
        == "torch crashed: SIGILL, an instruction this CPU does not have"
    )
    assert "out-of-memory killer" in describe_ending(-signal.SIGKILL, [], True)
    assert describe_ending(0, [], False) == "the worker process exited without a result"
    assert describe_ending(2, [], False) == "the worker process exited with status 2 without a result"


def test_samples_go_back_in_batches_at_most_every_interval() -> None:
    now = [0.0]
    out = io.BytesIO()
    reporter = PipeReporter(out, 7, threading.Event(), clock=lambda: now[0])
    for seconds, time_s in ((1.0, 5.0), (2.0, 5.125), (3.0, 5.2), (4.0, 5.25), (5.0, 5.375), (6.0, 5.75)):
        now[0] = time_s
        reporter.sample(seconds)
    out.seek(0)
    sent = []
    while True:
        try:
            sent.append(read_frame(out))
        except EOFError:
            break
    # The first at once; then whatever came within half a second goes together.
    assert sent == [("samples", 7, [1.0]), ("samples", 7, [2.0, 3.0, 4.0, 5.0, 6.0])]


def test_a_warm_worker_adds_little_to_a_run(worker: Worker) -> None:
    """Not a timing assertion: the warm path sends one frame each way and starts nothing."""
    worker.run(jobs.bench_job(TINY, CONFIG))
    started = worker.last_start_s
    began = time.monotonic()
    worker.run(jobs.bench_job(TINY, CONFIG))
    assert worker.last_start_s == started and time.monotonic() - began < 60


def test_the_stall_deadline_never_falls_below_the_runs_own_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.core.worker.supervisor import _stall_limit_s

    monkeypatch.delenv(STALL_ENV, raising=False)
    big = ArchSpec(block="bottleneck", depths=(3, 4, 6, 3), stem="imagenet", input_size=(512, 512))
    export = jobs.export_job(big, Path("model.onnx"), "random", 18)
    assert _stall_limit_s(export, None) == export.first_step_s
    # Its first word came after a second: a check that takes minutes later is still within limits.
    assert _stall_limit_s(export, 1.0) == export.first_step_s > 600
    bench = jobs.bench_job(TINY, CONFIG)
    assert _stall_limit_s(bench, 0.01) == jobs.MIN_STALL_S
    assert _stall_limit_s(bench, 10.0) == jobs.STALL_FACTOR * 10.0
