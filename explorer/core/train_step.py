"""One optimisation step of a spec's real model, as a training script runs it, and its parts timed apart.

A step is timm's: ``optimizer.zero_grad(set_to_none=True)``, the forward pass and the
cross-entropy loss (under autocast for mixed precision), ``loss.backward()`` (through a
GradScaler for float16 on CUDA, where gradients could underflow) and ``optimizer.step()``.
Mixed precision is float16 on CUDA and MPS and bfloat16 on the CPU, whose float16
kernels are slow or missing; the weights and the optimizer's state stay float32.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from explorer.core.benchtypes import BenchConfig, StepBreakdown
from explorer.core.devices import Device, synchronize
from explorer.core.spec import ArchSpec

INPUT_SEED = 0
SGD_LEARNING_RATE = 0.01
SGD_MOMENTUM = 0.9
ADAMW_LEARNING_RATE = 1e-3
ADAMW_WEIGHT_DECAY = 0.05


def step_precision(config: BenchConfig, device: Device) -> str:
    """The dtype the step computes in: float32, or autocast's on this kind of device."""
    if not config.amp:
        return "float32"
    return "bfloat16" if device.kind == "cpu" else "float16"


def uses_grad_scaler(precision: str, device: Device) -> bool:
    return precision == "float16" and device.kind == "cuda"


def make_optimizer(name: str, parameters: Any) -> Any:
    import torch

    if name == "sgd":
        return torch.optim.SGD(parameters, lr=SGD_LEARNING_RATE)
    if name == "sgd-momentum":
        return torch.optim.SGD(parameters, lr=SGD_LEARNING_RATE, momentum=SGD_MOMENTUM)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=ADAMW_LEARNING_RATE, weight_decay=ADAMW_WEIGHT_DECAY)
    raise ValueError(f"unknown optimizer {name!r}")


def random_batch(spec: ArchSpec, batch_size: int, device: Device, channels_last: bool) -> tuple[Any, Any]:
    """Images and integer labels from a fixed seed, on ``device``."""
    import torch

    generator = torch.Generator().manual_seed(INPUT_SEED)
    images = torch.randn((batch_size, *spec.input_shape), generator=generator).to(device.key)
    labels = torch.randint(0, spec.num_classes, (batch_size,), generator=generator).to(device.key)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, labels


class TrainStep:
    """A model in train mode with its optimizer; calling it on ``(images, labels)`` runs one step."""

    def __init__(self, runner: Any, model: Any, optimizer_name: str, precision: str, device: Device) -> None:
        import torch

        self.runner = runner
        self.model = model.train()
        self.optimizer = make_optimizer(optimizer_name, model.parameters())
        self.device = device
        self.precision = precision
        self.scaler = torch.amp.GradScaler(device.kind) if uses_grad_scaler(precision, device) else None

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.precision == "float32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.kind, dtype=getattr(torch, self.precision))

    def forward(self, batch: tuple[Any, Any]) -> Any:
        """Clears the gradients, then the forward pass and the loss."""
        import torch

        self.optimizer.zero_grad(set_to_none=True)
        images, labels = batch
        with self.autocast():
            return torch.nn.functional.cross_entropy(self.runner(images), labels)

    def backward(self, loss: Any) -> None:
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def update(self) -> None:
        if self.scaler is None:
            self.optimizer.step()
        else:
            self.scaler.step(self.optimizer)
            self.scaler.update()

    def __call__(self, batch: tuple[Any, Any]) -> None:
        self.backward(self.forward(batch))
        self.update()


def time_breakdown(
    step: TrainStep,
    batch: tuple[Any, Any],
    device: Device,
    steps: int,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> StepBreakdown | None:
    """The mean seconds of each part over ``steps`` steps, the device synchronised after each part.

    Means, not medians, so that the parts add up to the whole step. ``None`` if stopped
    before the first step.
    """
    forward: list[float] = []
    backward: list[float] = []
    update: list[float] = []
    whole: list[float] = []
    for _ in range(steps):
        if should_stop is not None and should_stop():
            break
        synchronize(device)
        began = time.perf_counter()
        loss = step.forward(batch)
        synchronize(device)
        forward_done = time.perf_counter()
        step.backward(loss)
        del loss
        synchronize(device)
        backward_done = time.perf_counter()
        step.update()
        synchronize(device)
        ended = time.perf_counter()
        forward.append(forward_done - began)
        backward.append(backward_done - forward_done)
        update.append(ended - backward_done)
        whole.append(ended - began)
        if progress is not None:
            progress(len(whole))
    if not whole:
        return None
    return StepBreakdown(
        forward_s=sum(forward) / len(forward),
        backward_s=sum(backward) / len(backward),
        optimizer_s=sum(update) / len(update),
        step_s=sum(whole) / len(whole),
        steps=len(whole),
    )


@contextlib.contextmanager
def _counting_saved(counted: dict[int, int], excluded: set[int]) -> Iterator[None]:
    import torch

    def pack(tensor: Any) -> Any:
        storage = tensor.untyped_storage()
        address = storage.data_ptr()
        if address not in excluded:
            counted[address] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield


def saved_activation_bytes(step: TrainStep, batch: tuple[Any, Any]) -> int:
    """The bytes autograd keeps for backward in one forward pass of the eager model and its loss.

    Each storage counted once, whichever tensors view it; the weights and buffers are not
    counted (they live anyway), the images, the labels and whatever autocast made are.
    """
    import torch

    model = step.model
    excluded = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
    counted: dict[int, int] = {}
    images, labels = batch
    step.optimizer.zero_grad(set_to_none=True)
    with step.autocast(), _counting_saved(counted, excluded):
        loss = torch.nn.functional.cross_entropy(model(images), labels)
    del loss
    return sum(counted.values())
