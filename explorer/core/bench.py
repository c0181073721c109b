"""Timed forward passes or training steps of a spec's real model: ``run_benchmark`` and ``run_sweep``.

The conventions are timm's and torch.utils.benchmark's: ``eval()``, ``inference_mode``
(in train mode, ``train()`` and a whole optimisation step, see ``train_step``),
warm-up first, the device synchronized before every clock read (CUDA events on
CUDA), the median and IQR reported. Mistakes in the configuration raise
``BenchError`` before anything is built; what goes wrong on the device (too little
memory, an out-of-memory error, a device error) comes back as a result with
``error`` set, after the memory has been released.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from explorer.core.analysis import analyze
from explorer.core.benchtypes import (
    MAX_ITERATIONS,
    BenchConfig,
    BenchError,
    BenchResult,
    ErrorKind,
    ReproCard,
    StepBreakdown,
    SweepResult,
    TimingStats,
)
from explorer.core.devices import Device, synchronize
from explorer.core.memory import LiveTensorPeak
from explorer.core.run_setup import PreparedRun, RunConditions, device_settings, release, run_conditions
from explorer.core.spec import ArchSpec
from explorer.core.train_step import TrainStep, saved_activation_bytes, step_precision, time_breakdown

__all__ = [
    "BenchConfig",
    "BenchError",
    "BenchResult",
    "ReproCard",
    "SweepResult",
    "TimingStats",
    "run_benchmark",
    "run_sweep",
    "sweep_batch_sizes",
    "time_forward",
    "time_train_steps",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]
OnSample = Callable[[float], None]
Runner = Callable[[Any], Any]
CPU_MEMORY_SOURCE = "tensors alive at the peak of one pass (weights, input, activations; torch's accounting)"


def sweep_batch_sizes(limit: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to ``limit``."""
    return tuple(2**power for power in range(int(math.log2(max(limit, 1))) + 1))


class _MemoryWatch:
    """Peak memory over a run: the allocator's figure on CUDA and MPS; on the CPU, the
    tensors alive at the peak of one extra, untimed pass, by torch's own accounting."""

    def __init__(self, device: Device, training: bool = False) -> None:
        import torch

        self.device = device
        self.source = {
            "cuda": "CUDA allocator peak",
            "mps": "MPS driver memory peak (includes the allocator cache)",
            # A training step's CPU figure is the saved tensors, counted apart.
            "cpu": "" if training else CPU_MEMORY_SOURCE,
        }[device.kind]
        self._mps_peak = 0
        self._tensor_peak: int | None = None
        if device.kind == "cuda":
            torch.cuda.reset_peak_memory_stats(device.key)
            self._baseline = torch.cuda.memory_allocated(device.key)
        elif device.kind == "mps":
            self._baseline = torch.mps.driver_allocated_memory()

    def sample(self) -> None:
        if self.device.kind == "mps":
            import torch

            self._mps_peak = max(self._mps_peak, torch.mps.driver_allocated_memory())

    def count_pass(self, model: Any, inputs: Any, config: BenchConfig) -> None:
        """On the CPU: one more forward pass, its tensors counted (weights and input included)."""
        if self.device.kind != "cpu":
            return
        held = sum(t.untyped_storage().nbytes() for t in (*model.parameters(), *model.buffers()))
        tracker = LiveTensorPeak(held + inputs.untyped_storage().nbytes())
        with _forward_context(config, self.device), tracker.track():
            model(inputs)
        self._tensor_peak = tracker.peak_bytes

    def peak_bytes(self) -> int | None:
        import torch

        if self.device.kind == "cpu":
            return self._tensor_peak
        if self.device.kind == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device.key) - self._baseline)
        return max(0, self._mps_peak - self._baseline)


def _forward_context(config: BenchConfig, device: Device) -> contextlib.ExitStack:
    """``inference_mode`` and, for a reduced dtype, autocast to it: how every pass runs.

    Nothing in train mode: the step sets up its own autocast and needs autograd.
    """
    import torch

    stack = contextlib.ExitStack()
    if config.mode == "train":
        return stack
    stack.enter_context(torch.inference_mode())
    if config.dtype != "float32":
        stack.enter_context(torch.autocast(device_type=device.kind, dtype=getattr(torch, config.dtype)))
    return stack


def _time_once(runner: Runner, inputs: Any, device: Device) -> float:
    # The model and input come as arguments, not in a closure: a closure would keep
    # them alive through an exception's traceback even after its frames are cleared.
    import torch

    if device.kind == "cuda":
        start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        start.record()
        runner(inputs)
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end)) / 1e3
    synchronize(device)
    began = time.perf_counter()
    runner(inputs)
    synchronize(device)
    return time.perf_counter() - began


def _planned_total(config: BenchConfig, samples: list[float]) -> int:
    if config.min_time_s is None or not samples:
        return config.iterations
    needed = math.ceil(config.min_time_s / (sum(samples) / len(samples)))
    return min(MAX_ITERATIONS, max(config.iterations, needed))


def _more_needed(config: BenchConfig, samples: list[float]) -> bool:
    if len(samples) < config.iterations:
        return True
    if config.min_time_s is None or len(samples) >= MAX_ITERATIONS:
        return False
    return sum(samples) < config.min_time_s


def _timed_passes(
    runner: Runner,
    inputs: Any,
    config: BenchConfig,
    device: Device,
    after_pass: Callable[[], None],
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None = None,
) -> tuple[list[float], bool]:
    """The timed samples in seconds, and whether ``should_stop`` ended the run."""
    warmup_samples: list[float] = []
    samples: list[float] = []
    with _forward_context(config, device):
        for done in range(config.warmup):
            if should_stop is not None and should_stop():
                return samples, True
            warmup_samples.append(_time_once(runner, inputs, device))
            after_pass()
            if progress is not None:
                progress(done + 1, config.warmup + _planned_total(config, warmup_samples[-1:]))
        while _more_needed(config, samples):
            if should_stop is not None and should_stop():
                return samples, True
            samples.append(_time_once(runner, inputs, device))
            after_pass()
            if on_sample is not None:
                on_sample(samples[-1])
            if progress is not None:
                done = len(samples)
                total = max(_planned_total(config, samples), done + int(_more_needed(config, samples)))
                progress(config.warmup + done, config.warmup + total)
    return samples, False


class _Measured:
    """What a run measured: the timed samples, whether it was stopped, and a training step's extras."""

    def __init__(self, samples: list[float], cancelled: bool) -> None:
        self.samples = samples
        self.cancelled = cancelled
        self.breakdown: StepBreakdown | None = None
        self.saved_bytes: int | None = None


def _measure_built(
    conditions: RunConditions,
    config: BenchConfig,
    watch: _MemoryWatch,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None,
) -> _Measured:
    # A frame of its own for the model: a failure's traceback frames, which the caller clears,
    # are then the only ones that hold it.
    with conditions.built() as run:
        return _measure(run, config, watch, progress, should_stop, on_sample)


def _measure(
    run: PreparedRun,
    config: BenchConfig,
    watch: _MemoryWatch,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None,
) -> _Measured:
    if config.mode == "train":
        return _measure_train(run, config, watch, progress, should_stop, on_sample)
    samples, cancelled = _timed_passes(
        run.runner, run.inputs, config, run.device, watch.sample, progress, should_stop, on_sample
    )
    if not cancelled:
        # The eager model even when compiled: the count needs to see every operator.
        watch.count_pass(run.model, run.inputs, config)
    return _Measured(samples, cancelled)


def _measure_train(
    run: PreparedRun,
    config: BenchConfig,
    watch: _MemoryWatch,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None,
) -> _Measured:
    step = run.train_step(config)
    batch = (run.inputs, run.labels)
    breakdown_steps = config.iterations
    timed_total = 0

    def timed_progress(done: int, total: int) -> None:
        nonlocal timed_total
        timed_total = total
        if progress is not None:
            progress(done, total + breakdown_steps)

    samples, cancelled = _timed_passes(
        step, batch, config, run.device, watch.sample, timed_progress, should_stop, on_sample
    )
    measured = _Measured(samples, cancelled)
    if cancelled:
        return measured

    def breakdown_progress(done: int) -> None:
        watch.sample()
        if progress is not None:
            progress(timed_total + done, timed_total + breakdown_steps)

    measured.breakdown = time_breakdown(
        step, batch, run.device, breakdown_steps, should_stop, breakdown_progress
    )
    if measured.breakdown is None or measured.breakdown.steps < breakdown_steps:
        measured.cancelled = True
        return measured
    measured.saved_bytes = saved_activation_bytes(step, batch)
    return measured


def time_forward(
    model: Runner,
    inputs: Any,
    config: BenchConfig,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> TimingStats | None:
    """Time a model the caller built with ``run_benchmark``'s own loop.

    ``model`` (in eval mode) and ``inputs`` must be on ``config.device`` already, in
    the layout and compiled state the caller wants: ``config`` gives the device,
    dtype, thread count and iterations. Errors propagate. ``None`` if stopped before
    the first timed pass.
    """
    with device_settings(config) as device:
        samples, _ = _timed_passes(model, inputs, config, device, lambda: None, progress, should_stop)
    return TimingStats.from_samples(samples) if samples else None


def time_train_steps(
    model: Any,
    batch: tuple[Any, Any],
    config: BenchConfig,
    runner: Runner | None = None,
) -> TimingStats | None:
    """Time training steps of a model the caller built with ``run_benchmark``'s own train loop.

    ``model`` and ``batch`` (images, labels) must be on ``config.device`` already, in the
    layout the caller wants; ``runner`` is a compiled ``model`` if wanted. A fresh
    optimizer of ``config.optimizer`` updates the model's weights. Errors propagate.
    """
    if config.mode != "train":
        raise BenchError("time_train_steps needs a train-mode configuration")
    with device_settings(config) as device:
        step = TrainStep(runner or model, model, config.optimizer, step_precision(config, device), device)
        samples, _ = _timed_passes(step, batch, config, device, lambda: None, None, None)
    return TimingStats.from_samples(samples) if samples else None


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def run_benchmark(
    spec: ArchSpec,
    config: BenchConfig,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    on_sample: OnSample | None = None,
) -> BenchResult:
    """Time ``spec``'s forward pass as ``config`` says.

    ``progress(done, total)`` is called after every iteration, warm-up included (the
    total can grow while a minimum time is being filled); ``should_stop()`` is asked
    before every iteration and ends the run with status ``cancelled``; ``on_sample(s)``
    gets each timed iteration's seconds as it is measured (warm-up excluded), in the
    order of ``stats.samples_s``.
    Raises ``BenchError`` for a configuration this machine cannot run.
    """
    macs = analyze(spec).totals.macs
    with run_conditions(spec, config) as conditions:
        device, need = conditions.device, conditions.need
        common: dict[str, Any] = {
            "spec": spec,
            "config": config,
            "macs_per_image": macs,
            "estimated_memory_bytes": need.total_bytes,
            "free_memory_bytes": conditions.free_bytes,
            "predicted_saved_bytes": need.saved_bytes,
        }
        if conditions.shortfall is not None:
            return _failed(common, conditions.card(0), conditions.shortfall, "insufficient-memory")

        watch = _MemoryWatch(device, training=config.mode == "train")
        failure: tuple[str, ErrorKind] | None = None
        measured = _Measured([], False)
        try:
            measured = _measure_built(conditions, config, watch, progress, should_stop, on_sample)
        except (RuntimeError, MemoryError) as exc:
            log.debug("benchmark of batch %d on %s failed", config.batch_size, device.key, exc_info=True)
            failure = _describe_failure(exc, config, device)
            # The traceback's frames hold the model and its tensors for as long as anyone
            # keeps the exception; the memory must come back now.
            traceback.clear_frames(exc.__traceback__)
            release(device, collect=True)
        card = conditions.card(len(measured.samples))
        if failure is not None:
            return _failed(common, card, *failure)
        return BenchResult(
            **common,
            card=card,
            status="cancelled" if measured.cancelled else "ok",
            stats=TimingStats.from_samples(measured.samples) if measured.samples else None,
            peak_memory_bytes=watch.peak_bytes(),
            memory_source=watch.source,
            breakdown=measured.breakdown,
            measured_saved_bytes=measured.saved_bytes,
        )


def _describe_failure(exc: BaseException, config: BenchConfig, device: Device) -> tuple[str, ErrorKind]:
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if _is_out_of_memory(exc):
        return (
            f"out of memory on {device.key} at batch {config.batch_size}: {first_line}; lower the batch size",
            "out-of-memory",
        )
    return f"{type(exc).__name__} on {device.key}: {first_line}", "device"


def _failed(common: dict[str, Any], card: ReproCard, message: str, kind: ErrorKind) -> BenchResult:
    return BenchResult(**common, card=card, status="error", error=message, error_kind=kind)


def run_sweep(
    spec: ArchSpec,
    config: BenchConfig,
    batch_sizes: Sequence[int],
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    on_result: Callable[[BenchResult], None] | None = None,
) -> SweepResult:
    """Throughput and latency at each batch size, in order, up to the first that fails.

    A run refused by the memory check, one that runs out of memory, fails on the
    device or is cancelled ends the sweep; it is kept as ``stopped_by``.
    ``progress`` sees the whole sweep; ``on_result`` gets each result as it comes.
    """
    if not batch_sizes:
        raise BenchError("the sweep needs at least one batch size")
    steps = config.warmup + config.iterations
    points: list[BenchResult] = []
    for position, batch in enumerate(batch_sizes):

        def step(done: int, total: int, offset: int = position * steps) -> None:
            if progress is not None:
                progress(offset + min(steps, done * steps // max(total, 1)), len(batch_sizes) * steps)

        result = run_benchmark(spec, replace(config, batch_size=batch), step, should_stop)
        if on_result is not None:
            on_result(result)
        if not result.ok:
            return SweepResult(points=tuple(points), stopped_by=result)
        points.append(result)
    return SweepResult(points=tuple(points))


def forward_context(config: BenchConfig, device: Device) -> contextlib.ExitStack:
    """How every timed pass runs: ``inference_mode`` and autocast to a reduced dtype."""
    return _forward_context(config, device)
