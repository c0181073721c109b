"""What autograd really keeps for backward: every tensor a real forward pass saves,
seen by ``torch.autograd.graph.saved_tensors_hooks``, each storage counted once.

Parameters and buffers are left out (they exist whether or not anything is saved);
everything else autograd holds on to is counted, whoever made it: the activations,
the image the first convolution keeps, max-pool indices, batch-norm statistics, the
labels the loss keeps, and under autocast the reduced-precision copies of the weights.
Each storage is attributed to the module that was running when it was first saved,
so that the bytes can be compared stage by stage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as functional
from torch import nn

AUTOCAST_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class SavedTensors:
    """Storages autograd saved: address -> (bytes, module path, dtype, shape of the first view)."""

    storages: dict[int, tuple[int, str, torch.dtype, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(entry[0] for entry in self.storages.values())

    def bytes_under(self, prefix: str) -> int:
        """Saved bytes first kept while a module at ``prefix`` (or below it) ran."""
        return sum(
            entry[0]
            for entry in self.storages.values()
            if entry[1] == prefix or entry[1].startswith(prefix + ".")
        )


@contextlib.contextmanager
def _module_paths(model: nn.Module, current: list[str]) -> Iterator[None]:
    names = {module: name for name, module in model.named_modules()}

    def enter(module: nn.Module, _inputs: object) -> None:
        current.append(names[module])

    def leave(module: nn.Module, _inputs: object, _output: object) -> None:
        current.pop()

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def saved_tensors(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor | None = None,
    precision: str = "float32",
) -> SavedTensors:
    """Runs one training forward pass of ``model`` on ``inputs`` (and the cross-entropy
    loss against ``labels`` when given), recording every storage autograd saves."""
    excluded = {p.untyped_storage().data_ptr() for p in model.parameters()}
    excluded |= {b.untyped_storage().data_ptr() for b in model.buffers()}
    result = SavedTensors()
    current = [""]
    keep_alive: list[torch.Tensor] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        address = storage.data_ptr()
        if address not in excluded and address not in result.storages:
            result.storages[address] = (storage.nbytes(), current[-1], tensor.dtype, tuple(tensor.shape))
        keep_alive.append(tensor)  # a freed storage's address could be reused by another
        return tensor

    def unpack(tensor: torch.Tensor) -> torch.Tensor:
        return tensor

    model.train()
    autocast: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if precision != "float32":
        autocast = torch.autocast(inputs.device.type, dtype=AUTOCAST_DTYPES[precision])
    with torch.autograd.graph.saved_tensors_hooks(pack, unpack), autocast:
        with _module_paths(model, current):
            output = model(inputs)
        if labels is not None:
            current.append("loss")
            functional.cross_entropy(output, labels)
            current.pop()
    return result
