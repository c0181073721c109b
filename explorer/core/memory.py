"""How much memory a forward pass needs, before it runs, and how much it took, after.

The estimate walks the analysis in execution order and keeps each layer's output
alive until its last consumer has run, as an inference-mode forward pass does; the
peak of that sum, with a margin for allocator rounding and convolution workspaces,
plus the weights and the input, is what the pass needs.

What a pass took on the CPU is counted by torch's own tensor accounting
(``LiveTensorPeak``): the process's resident size moves with the allocator's caching
and trimming, not with the work, so it says little about one pass.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from explorer.core.analysis import analyze
from explorer.core.plan import NETWORK_INPUT
from explorer.core.spec import ArchSpec

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
# Allocator rounding and fragmentation, convolution workspaces and layout copies
# come on top of the live tensors, and the first pass loads kernels and scratch
# buffers of its own; with these two allowances the process peaks measured for
# resnet18 and resnet50 on the CPU (batch 1 to 64) stay within the estimate, small
# CIFAR networks at large batches within a few per cent of it.
ACTIVATION_MARGIN = 2.0
RUNTIME_OVERHEAD_BYTES = 64 * 1024**2


@dataclass(frozen=True, slots=True)
class MemoryEstimate:
    weights_bytes: int
    input_bytes: int
    activation_bytes: int
    overhead_bytes: int = RUNTIME_OVERHEAD_BYTES

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.input_bytes + self.activation_bytes + self.overhead_bytes


def peak_live_activations(spec: ArchSpec) -> int:
    """The most output values alive at once in one sample's forward pass."""
    rows = analyze(spec).rows
    # A block row names the tensor its last layer made; it allocates nothing itself.
    owner = [index - 1 if row.op == "block" else index for index, row in enumerate(rows)]
    last_use = list(range(len(rows)))
    for index, row in enumerate(rows):
        if row.op == "block":
            continue
        for source in row.inputs:
            if source != NETWORK_INPUT:
                producer = owner[source]
                last_use[producer] = max(last_use[producer], index)
    last_use[owner[-1]] = len(rows)  # the result outlives the pass

    freed_at: dict[int, int] = {}
    live = peak = 0
    for index, row in enumerate(rows):
        if row.op == "block":
            continue
        size = math.prod(row.output_shape)
        live += size
        peak = max(peak, live)
        freed_at[last_use[index]] = freed_at.get(last_use[index], 0) + size
        live -= freed_at.pop(index, 0)
    return peak


def estimate_memory(spec: ArchSpec, batch_size: int, dtype: str = "float32") -> MemoryEstimate:
    """What a forward pass of ``batch_size`` samples in ``dtype`` needs on its device."""
    params = analyze(spec).totals.total_params
    value_bytes = DTYPE_BYTES[dtype]
    # Autocast keeps float32 weights and caches a reduced copy of each beside them.
    weights = params * 4 + (params * value_bytes if value_bytes != 4 else 0)
    inputs = batch_size * math.prod(spec.input_shape) * 4
    activations = int(batch_size * peak_live_activations(spec) * value_bytes * ACTIVATION_MARGIN)
    return MemoryEstimate(weights_bytes=weights, input_bytes=inputs, activation_bytes=activations)


class LiveTensorPeak:
    """The most bytes of tensor storage alive at once during a stretch of torch work.

    torch's own accounting, not the process's: every tensor an operator makes is
    counted from its creation until the last tensor on its storage is gone, so the
    figure is what the work needed, whatever the allocator caches, returns to the
    system or had left over from earlier work. Tensors made before ``track`` (the
    weights, the input) are not counted: pass their bytes as ``baseline_bytes``.
    """

    def __init__(self, baseline_bytes: int = 0) -> None:
        self.baseline_bytes = baseline_bytes
        self.peak_bytes = baseline_bytes
        self._live_bytes = baseline_bytes
        self._storages: dict[int, list[int]] = {}  # storage address -> [bytes, tensors on it]

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        from torch.utils._python_dispatch import TorchDispatchMode

        tracker = self

        class _Counting(TorchDispatchMode):  # type: ignore[no-untyped-call]
            def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
                result = func(*args, **(kwargs or {}))
                tracker._made(result)
                return result

        with _Counting():  # type: ignore[no-untyped-call]
            yield

    def _made(self, result: Any) -> None:
        import torch
        from torch.utils._pytree import tree_leaves

        for tensor in tree_leaves(result):
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            address = storage.data_ptr()
            entry = self._storages.get(address)
            if entry is None:
                self._storages[address] = [storage.nbytes(), 1]
                self._live_bytes += storage.nbytes()
                self.peak_bytes = max(self.peak_bytes, self._live_bytes)
            else:
                entry[1] += 1
            # Runs when the tensor is freed (in-place results register again, and count again).
            weakref.finalize(tensor, self._dropped, address)

    def _dropped(self, address: int) -> None:
        entry = self._storages.get(address)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del self._storages[address]
            self._live_bytes -= entry[0]
