"""What an export needs in memory, predicted before anything is built (no torch here).

The verification runs the model and the exported network one after the other at its largest
batch; each holds its weights, and onnxruntime keeps its own arena of the activations besides.
Measured on the CPU (resnet50 at 3x512x512): .py 4.8 GiB, .onnx 6.5 GiB at the peak, against
4.9 and 7.2 GiB predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.memory import ACTIVATION_MARGIN, estimate_memory
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes

# The batches the verification runs (explorer.core.export.verification, which needs torch).
VERIFY_BATCHES = (1, 3)
# The exported network's weights beside the model's, and a copy on the way (a state dict,
# a file's bytes).
WEIGHT_COPIES = 3


@dataclass(frozen=True, slots=True)
class ExportMemoryNeed:
    total_bytes: int
    parts: str


def export_memory_need(spec: ArchSpec, suffix: str) -> ExportMemoryNeed:
    """What exporting ``spec`` to a ``suffix`` file (.py, .onnx, .pt2) needs at its peak."""
    forward = estimate_memory(spec, max(VERIFY_BATCHES))
    weights = WEIGHT_COPIES * forward.weights_bytes
    # onnxruntime's arena holds the activations of its own pass (without torch's margin).
    runtime = int(forward.activation_bytes / ACTIVATION_MARGIN) if suffix == ".onnx" else 0
    activations = forward.activation_bytes + forward.input_bytes
    parts = (
        f"weights {format_bytes(forward.weights_bytes)} x {WEIGHT_COPIES + 1}, activations at batch "
        f"{max(VERIFY_BATCHES)} {format_bytes(activations)}"
        + (f", onnxruntime's own {format_bytes(runtime)}" if runtime else "")
        + f", runtime {format_bytes(forward.overhead_bytes)}"
    )
    return ExportMemoryNeed(forward.total_bytes + weights + runtime, parts)
