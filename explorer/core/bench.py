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
import gc
import logging
import math
import platform
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
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
from explorer.core.devices import (
    Device,
    DeviceError,
    free_memory,
    resolve_device,
    supported_dtypes,
    synchronize,
)
from explorer.core.memory import LiveTensorPeak, estimate_memory
from explorer.core.spec import ArchSpec
from explorer.core.train_step import (
    TrainStep,
    random_batch,
    saved_activation_bytes,
    step_precision,
    time_breakdown,
    uses_grad_scaler,
)
from explorer.core.training_memory import predict_training_memory
from explorer.core.units import format_bytes

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


def _checked_device(config: BenchConfig) -> Device:
    try:
        device = resolve_device(config.device)
    except DeviceError as exc:
        raise BenchError(str(exc)) from None
    supported = supported_dtypes(device)
    if config.dtype not in supported:
        raise BenchError(
            f"dtype {config.dtype} is not supported on {device.key} ({device.name}); "
            f"choose one of {', '.join(supported)}"
        )
    return device


@contextlib.contextmanager
def _thread_count(threads: int | None) -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _cudnn_benchmark(device: Device) -> Iterator[None]:
    import torch

    previous = torch.backends.cudnn.benchmark
    if device.kind == "cuda":
        # Lets cuDNN pick its fastest convolution for these shapes during warm-up, as timm does.
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def _card(spec: ArchSpec, config: BenchConfig, device: Device, iterations: int) -> ReproCard:
    import torch

    training = config.mode == "train"
    precision = step_precision(config, device) if training else config.dtype
    return ReproCard(
        torch_version=torch.__version__,
        python_version=platform.python_version(),
        platform=platform.platform(terse=True),
        device=device.key,
        device_name=device.name,
        threads=torch.get_num_threads(),
        dtype=precision,
        layout=config.layout,
        batch_size=config.batch_size,
        input_shape=(config.batch_size, *spec.input_shape),
        compiled=config.compile,
        warmup=config.warmup,
        iterations=iterations,
        cudnn_benchmark=torch.backends.cudnn.benchmark if device.kind == "cuda" else None,
        mode=config.mode,
        optimizer=config.optimizer if training else None,
        grad_scaler=uses_grad_scaler(precision, device) if training else None,
    )


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


def _measure(
    spec: ArchSpec,
    config: BenchConfig,
    device: Device,
    watch: _MemoryWatch,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None,
) -> _Measured:
    if config.mode == "train":
        return _measure_train(spec, config, device, watch, progress, should_stop, on_sample)
    import torch

    from explorer.core.build import build_model

    model = build_model(spec, device.key).eval()
    inputs = torch.randn((config.batch_size, *spec.input_shape), device=device.key)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    runner: Runner = torch.compile(model) if config.compile else model
    samples, cancelled = _timed_passes(
        runner, inputs, config, device, watch.sample, progress, should_stop, on_sample
    )
    if not cancelled:
        # The eager model even when compiled: the count needs to see every operator.
        watch.count_pass(model, inputs, config)
    return _Measured(samples, cancelled)


def _measure_train(
    spec: ArchSpec,
    config: BenchConfig,
    device: Device,
    watch: _MemoryWatch,
    progress: Progress | None,
    should_stop: ShouldStop | None,
    on_sample: OnSample | None,
) -> _Measured:
    import torch

    from explorer.core.build import build_model

    model = build_model(spec, device.key)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    runner = torch.compile(model) if config.compile else model
    step = TrainStep(runner, model, config.optimizer, step_precision(config, device), device)
    batch = random_batch(spec, config.batch_size, device, config.channels_last)
    breakdown_steps = config.iterations
    timed_total = 0

    def timed_progress(done: int, total: int) -> None:
        nonlocal timed_total
        timed_total = total
        if progress is not None:
            progress(done, total + breakdown_steps)

    samples, cancelled = _timed_passes(
        step, batch, config, device, watch.sample, timed_progress, should_stop, on_sample
    )
    measured = _Measured(samples, cancelled)
    if cancelled:
        return measured

    def breakdown_progress(done: int) -> None:
        watch.sample()
        if progress is not None:
            progress(timed_total + done, timed_total + breakdown_steps)

    measured.breakdown = time_breakdown(step, batch, device, breakdown_steps, should_stop, breakdown_progress)
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
    device = _checked_device(config)
    with _thread_count(config.threads), _cudnn_benchmark(device):
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
    device = _checked_device(config)
    step = TrainStep(runner or model, model, config.optimizer, step_precision(config, device), device)
    with _thread_count(config.threads), _cudnn_benchmark(device):
        samples, _ = _timed_passes(step, batch, config, device, lambda: None, None, None)
    return TimingStats.from_samples(samples) if samples else None


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return "out of memory" in text or "can't allocate memory" in text


def _release(device: Device, collect: bool) -> None:
    import torch

    # Only after a failure: a full collection on this (worker) thread would also finalize
    # whatever unrelated objects of the caller happen to be garbage, Qt objects included,
    # on the wrong thread. A run that ends normally frees its model by reference counting.
    if collect:
        gc.collect()
    if device.kind == "cuda":
        torch.cuda.empty_cache()
    elif device.kind == "mps":
        torch.mps.empty_cache()


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
    device = _checked_device(config)
    if config.mode == "train" and spec.num_classes == 0:
        raise BenchError(
            "train mode needs a classifier for its cross-entropy loss: give the spec classes "
            "(--classes N, N above 0)"
        )
    macs = analyze(spec).totals.macs
    need = _memory_need(spec, config, device)
    with _thread_count(config.threads), _cudnn_benchmark(device):
        free = free_memory(device)
        common: dict[str, Any] = {
            "spec": spec,
            "config": config,
            "macs_per_image": macs,
            "estimated_memory_bytes": need.total_bytes,
            "free_memory_bytes": free,
            "predicted_saved_bytes": need.saved_bytes,
        }
        if config.check_memory and free is not None and need.total_bytes > free:
            message = (
                f"{need.what} needs about {format_bytes(need.total_bytes)} "
                f"({need.parts}) but {device.key} has {format_bytes(free)} free; lower the batch size"
            )
            return _failed(common, _card(spec, config, device, 0), message, "insufficient-memory")

        watch = _MemoryWatch(device, training=config.mode == "train")
        failure: tuple[str, ErrorKind] | None = None
        measured = _Measured([], False)
        try:
            measured = _measure(spec, config, device, watch, progress, should_stop, on_sample)
        except (RuntimeError, MemoryError) as exc:
            log.debug("benchmark of batch %d on %s failed", config.batch_size, device.key, exc_info=True)
            failure = _describe_failure(exc, config, device)
            # The traceback's frames hold the model and its tensors for as long as anyone
            # keeps the exception; the memory must come back now.
            traceback.clear_frames(exc.__traceback__)
        _release(device, collect=failure is not None)
        card = _card(spec, config, device, len(measured.samples))
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


class _MemoryNeed:
    """What a run is predicted to need, in words for the memory check's message."""

    def __init__(self, what: str, total_bytes: int, parts: str, saved_bytes: int | None = None) -> None:
        self.what = what
        self.total_bytes = total_bytes
        self.parts = parts
        self.saved_bytes = saved_bytes


def _memory_need(spec: ArchSpec, config: BenchConfig, device: Device) -> _MemoryNeed:
    if config.mode == "train":
        # MPS follows CUDA's autocast rules more closely than the CPU's.
        device_type = "cpu" if device.kind == "cpu" else "cuda"
        precision = step_precision(config, device)
        memory = predict_training_memory(spec, config.batch_size, config.optimizer, precision, device_type)
        parts = (
            f"parameters {format_bytes(memory.param_bytes)}, gradients {format_bytes(memory.grad_bytes)}, "
            f"optimizer state {format_bytes(memory.optimizer_state_bytes)}, saved activations "
            f"{format_bytes(memory.saved_activation_bytes)}, backward's extra "
            f"{format_bytes(memory.backward_peak_bytes)} and the rest"
        )
        return _MemoryNeed(
            f"a training step at batch {config.batch_size}",
            memory.total_bytes,
            parts,
            # Autocast's weight copies are saved tensors too: what the saved-tensor count sees.
            memory.saved_activation_bytes + memory.weight_copy_bytes,
        )
    estimate = estimate_memory(spec, config.batch_size, config.dtype)
    parts = (
        f"weights {format_bytes(estimate.weights_bytes)} + activations "
        f"{format_bytes(estimate.activation_bytes + estimate.input_bytes)} + runtime "
        f"{format_bytes(estimate.overhead_bytes)}"
    )
    return _MemoryNeed(f"batch {config.batch_size}", estimate.total_bytes, parts)


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


@contextlib.contextmanager
def eager_run(spec: ArchSpec, config: BenchConfig) -> Iterator[tuple[Device, Any, Any]]:
    """``run_benchmark``'s set-up for a caller that runs its own passes (a per-layer profile).

    Yields the checked device, with torch's thread count and cuDNN set as for a benchmark,
    the eager model in eval mode and a random input in the configured layout. The caller
    runs each pass inside ``forward_context(config, device)``. Raises ``BenchError`` for a
    configuration this machine cannot run, or a batch too large for its free memory.
    """
    import torch

    from explorer.core.build import build_model

    device = _checked_device(config)
    with _thread_count(config.threads), _cudnn_benchmark(device):
        needed = estimate_memory(spec, config.batch_size, config.dtype).total_bytes
        free = free_memory(device)
        if config.check_memory and free is not None and needed > free:
            raise BenchError(
                f"batch {config.batch_size} needs about {format_bytes(needed)} but {device.key} has "
                f"{format_bytes(free)} free; lower the batch size"
            )
        model = build_model(spec, device.key).eval()
        inputs = torch.randn((config.batch_size, *spec.input_shape), device=device.key)
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        try:
            yield device, model, inputs
        finally:
            del model, inputs
            _release(device, collect=False)


def forward_context(config: BenchConfig, device: Device) -> contextlib.ExitStack:
    """How every timed pass runs: ``inference_mode`` and autocast to a reduced dtype."""
    return _forward_context(config, device)


def run_card(spec: ArchSpec, config: BenchConfig, device: Device) -> ReproCard:
    """The reproduction card of a run of ``config`` on ``device`` (call inside ``eager_run``)."""
    return _card(spec, config, device, config.iterations)
