"""One place that prepares every run of a real model, for every measurement that follows.

``run_conditions`` checks the device and the dtype, sets torch's thread count and cuDNN's
autotuner for the run (and restores them), and weighs the run's predicted memory against
what the device has free. ``RunConditions.built`` then builds the model on the device, in the
run's mode, layout and compiled state, with a random batch: a ``PreparedRun``. The forward
timing and the training step (``bench``), the per-layer profile (``profile``) all start here.
"""

from __future__ import annotations

import contextlib
import gc
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from explorer.core.benchtypes import BenchConfig, BenchError, InsufficientMemory, ReproCard
from explorer.core.devices import Device, DeviceError, free_memory, resolve_device, supported_dtypes
from explorer.core.memory import estimate_memory
from explorer.core.spec import ArchSpec
from explorer.core.train_step import TrainStep, random_batch, step_precision, uses_grad_scaler
from explorer.core.training_memory import predict_training_memory
from explorer.core.units import format_bytes


def checked_device(config: BenchConfig) -> Device:
    """The device ``config`` names, if it exists here and runs its dtype; else ``BenchError``."""
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


@dataclass(frozen=True, slots=True)
class MemoryNeed:
    """What a run is predicted to need, in words for the memory check's message."""

    what: str
    total_bytes: int
    parts: str
    saved_bytes: int | None = None


def memory_need(spec: ArchSpec, config: BenchConfig, device: Device) -> MemoryNeed:
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
        return MemoryNeed(
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
    return MemoryNeed(f"batch {config.batch_size}", estimate.total_bytes, parts)


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


def release(device: Device, collect: bool) -> None:
    """Give the run's memory back to the device (and, after a failure, collect its cycles)."""
    import torch

    # Only after a failure: a full collection here would also finalize whatever unrelated
    # objects of the caller happen to be garbage, on the wrong thread. A run that ends
    # normally frees its model by reference counting.
    if collect:
        gc.collect()
    if device.kind == "cuda":
        torch.cuda.empty_cache()
    elif device.kind == "mps":
        torch.mps.empty_cache()


@contextlib.contextmanager
def device_settings(config: BenchConfig) -> Iterator[Device]:
    """The checked device, with torch's threads and cuDNN set for the run (restored after)."""
    device = checked_device(config)
    with _thread_count(config.threads), _cudnn_benchmark(device):
        yield device


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A model ready to measure: on the device, in the run's mode and layout, with its batch.

    ``runner`` is ``model`` or its compiled form; ``labels`` are ``None`` in inference.
    ``precision`` is the dtype a pass runs in (a training step's autocast dtype, or float32).
    """

    device: Device
    precision: str
    model: Any
    runner: Any
    inputs: Any
    labels: Any | None

    def train_step(self, config: BenchConfig) -> TrainStep:
        return TrainStep(self.runner, self.model, config.optimizer, self.precision, self.device)


class RunConditions:
    """A run's checked device and settings (in force while the ``run_conditions`` block lasts)
    and its memory assessment."""

    def __init__(self, spec: ArchSpec, config: BenchConfig, device: Device) -> None:
        self.spec = spec
        self.config = config
        self.device = device
        self.need = memory_need(spec, config, device)
        self.free_bytes = free_memory(device)

    @property
    def shortfall(self) -> str | None:
        """Why the memory check refuses the run (``None``: it fits, or the check is off)."""
        free = self.free_bytes
        if not self.config.check_memory or free is None or self.need.total_bytes <= free:
            return None
        return (
            f"{self.need.what} needs about {format_bytes(self.need.total_bytes)} "
            f"({self.need.parts}) but {self.device.key} has {format_bytes(free)} free; lower the batch size"
        )

    def refuse_if_short(self) -> None:
        if self.shortfall is not None:
            raise InsufficientMemory(self.shortfall)

    @property
    def precision(self) -> str:
        return step_precision(self.config, self.device) if self.config.mode == "train" else self.config.dtype

    def card(self, iterations: int | None = None) -> ReproCard:
        """The reproduction card of this run (read while the run's settings are in force)."""
        import torch

        config, device = self.config, self.device
        training = config.mode == "train"
        return ReproCard(
            torch_version=str(torch.__version__),
            python_version=platform.python_version(),
            platform=platform.platform(terse=True),
            device=device.key,
            device_name=device.name,
            threads=torch.get_num_threads(),
            dtype=self.precision,
            layout=config.layout,
            batch_size=config.batch_size,
            input_shape=(config.batch_size, *self.spec.input_shape),
            compiled=config.compile,
            warmup=config.warmup,
            iterations=config.iterations if iterations is None else iterations,
            cudnn_benchmark=torch.backends.cudnn.benchmark if device.kind == "cuda" else None,
            mode=config.mode,
            optimizer=config.optimizer if training else None,
            grad_scaler=uses_grad_scaler(self.precision, device) if training else None,
        )

    @contextlib.contextmanager
    def built(self) -> Iterator[PreparedRun]:
        """The model and its batch, freed when the block ends."""
        import torch

        from explorer.core.build import build_model

        config, device = self.config, self.device
        training = config.mode == "train"
        model = build_model(self.spec, device.key)
        model = model.train() if training else model.eval()
        if training:
            inputs, labels = random_batch(self.spec, config.batch_size, device, config.channels_last)
        else:
            inputs, labels = torch.randn((config.batch_size, *self.spec.input_shape), device=device.key), None
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        runner = torch.compile(model) if config.compile else model
        run = PreparedRun(device, self.precision, model, runner, inputs, labels)
        try:
            yield run
        finally:
            del run, model, runner, inputs, labels
            release(device, collect=False)


@contextlib.contextmanager
def run_conditions(spec: ArchSpec, config: BenchConfig) -> Iterator[RunConditions]:
    """Check ``config`` against this machine and put its settings in force.

    Raises ``BenchError`` for a configuration this machine cannot run (a device that is not
    here, a dtype it has no kernels for, train mode without a classifier for the loss).
    """
    if config.mode == "train" and spec.num_classes == 0:
        raise BenchError(
            "train mode needs a classifier for its cross-entropy loss: give the spec classes "
            "(--classes N, N above 0)"
        )
    with device_settings(config) as device:
        yield RunConditions(spec, config, device)
