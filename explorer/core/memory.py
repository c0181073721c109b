"""How much memory a forward pass needs, before it runs, and how much it took, after.

The estimate walks the analysis in execution order and keeps each layer's output
alive until its last consumer has run, as an inference-mode forward pass does; the
peak of that sum, with a margin for allocator rounding and convolution workspaces,
plus the weights and the input, is what the pass needs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

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


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _return_freed_heap() -> None:
    """Hand memory that earlier runs freed back to the system, so that it shows as growth again."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the figure is a lower bound


class ProcessPeakTracker:
    """The growth of this process's peak resident memory over a stretch of work.

    On Linux the kernel's high-water mark is reset at the start, so the figure is the
    true peak of the stretch; elsewhere the lifetime peak can only show growth above
    the earlier peak, so it is a lower bound.
    """

    def __init__(self) -> None:
        _return_freed_heap()
        self.exact = False
        self._baseline_kib = _status_kib("VmRSS")
        if self._baseline_kib is not None:
            try:
                Path("/proc/self/clear_refs").write_text("5")
                self.exact = True
            except OSError:
                pass
        if not self.exact:
            self._baseline_kib = self._max_rss_kib()

    @staticmethod
    def _max_rss_kib() -> int:
        try:
            import resource
        except ImportError:  # Windows
            return 0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes

    def growth_bytes(self) -> int:
        peak = _status_kib("VmHWM") if self.exact else self._max_rss_kib()
        baseline = self._baseline_kib or 0
        return max(0, (peak or 0) - baseline) * 1024
