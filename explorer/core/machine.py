"""What this machine can run: its devices, best first, each with the dtypes it supports.

Found in the worker process (it needs torch); what crosses back to the window is these
plain records.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from explorer.core.benchtypes import DTYPES
from explorer.core.units import format_bytes


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """A device the picker offers: ``dtypes`` can run there, ``unsupported`` says why not."""

    key: str
    kind: str
    name: str
    total_memory: int | None
    dtypes: tuple[str, ...]
    unsupported: tuple[tuple[str, str], ...]  # (dtype, reason)

    @property
    def short_name(self) -> str:
        """The name without trademarks, clock speed or core count: "Intel Xeon Gold 6248"."""
        text = re.sub(r"\((R|TM)\)", "", self.name, flags=re.IGNORECASE)
        text = re.sub(r"\s+(CPU\s*)?@.*$", "", text)
        text = re.sub(r"\b\d+-Core Processor\b", "", text)
        return " ".join(text.split()) or self.name

    @property
    def label(self) -> str:
        """What a device picker shows; ``full_label`` goes in its tooltip."""
        return f"{self.key} — {self.short_name}"

    @property
    def full_label(self) -> str:
        memory = f", {format_bytes(self.total_memory)}" if self.total_memory else ""
        return f"{self.key}: {self.name}{memory}"

    def reason(self, dtype: str) -> str:
        return dict(self.unsupported).get(dtype, "")


@dataclass(frozen=True, slots=True)
class Machine:
    """What discovery found: the devices (best first), torch's default thread count and version."""

    devices: tuple[DeviceChoice, ...]
    default_threads: int
    cpu_count: int
    torch_version: str


def _unsupported_reason(kind: str, dtype: str) -> str:
    if kind == "cpu" and dtype == "float16":
        return "CPU autocast has no fast float16 kernels; bfloat16 is the CPU's reduced precision"
    if kind == "cuda" and dtype == "bfloat16":
        return "this GPU has no bfloat16 support (it needs compute capability 8.0 or newer)"
    if kind == "mps":
        return f"autocast to {dtype} is not available on MPS with this torch version"
    return f"{dtype} is not supported on this device"


def discover_machine() -> Machine:
    """The devices and torch's defaults (imports torch: call it in the worker process)."""
    import torch

    from explorer.core.devices import available_devices, best_device, supported_dtypes

    found = available_devices()
    best = best_device()
    ordered = (best, *(device for device in found if device != best))
    choices = []
    for device in ordered:
        dtypes = supported_dtypes(device)
        missing = tuple((d, _unsupported_reason(device.kind, d)) for d in DTYPES if d not in dtypes)
        choices.append(
            DeviceChoice(device.key, device.kind, device.name, device.total_memory, dtypes, missing)
        )
    return Machine(
        devices=tuple(choices),
        default_threads=torch.get_num_threads(),
        cpu_count=os.cpu_count() or 1,
        torch_version=str(torch.__version__),
    )
