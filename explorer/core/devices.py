"""The compute devices found at run time: the CPU, every CUDA device, Apple's MPS.

torch is imported inside the functions: listing presets or analysing a spec must not
pay for it.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from explorer.core.quoting import quote_value

DEVICE_KINDS = ("cpu", "cuda", "mps")
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda|cuda:\d+")


class DeviceError(ValueError):
    """A device that does not exist here, or a name that is not a device."""


@dataclass(frozen=True, slots=True)
class Device:
    """One device: ``key`` is what torch takes (``cpu``, ``cuda:0``, ``mps``)."""

    key: str
    kind: str
    name: str
    total_memory: int | None

    @property
    def label(self) -> str:
        return f"{self.key} ({self.name})"


def cpu_name() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    if match:
        return match.group(1).strip()
    return platform.processor() or platform.machine() or "CPU"


def _meminfo_bytes(field: str) -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _cpu_total_memory() -> int | None:
    total = _meminfo_bytes("MemTotal")
    if total is not None:
        return total
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


@lru_cache(maxsize=1)
def available_devices() -> tuple[Device, ...]:
    """Every usable device, the CPU first (cached: devices do not come and go)."""
    import torch

    devices = [Device("cpu", "cpu", cpu_name(), _cpu_total_memory())]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            devices.append(
                Device(f"cuda:{index}", "cuda", torch.cuda.get_device_name(index), props.total_memory)
            )
    if _mps_available():
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        total = int(recommended()) if recommended is not None else None
        devices.append(Device("mps", "mps", f"Apple MPS ({platform.machine()})", total))
    return tuple(devices)


def best_device() -> Device:
    """The fastest kind found: CUDA (the first one), then MPS, then the CPU."""
    devices = available_devices()
    for kind in ("cuda", "mps"):
        for device in devices:
            if device.kind == kind:
                return device
    return devices[0]


def check_device_name(name: str) -> None:
    """``DeviceError`` unless ``name`` has the form of a device (``auto``, ``cpu``, ``cuda``,
    ``cuda:N``, ``mps``); whether that device exists here only torch can tell."""
    if not DEVICE_NAME.fullmatch(name.strip().lower()):
        raise DeviceError(
            f"device {quote_value(name)} is not a device name: use auto, cpu, cuda, cuda:N or mps"
        )


def resolve_device(name: str) -> Device:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a device of this machine."""
    text = name.strip().lower()
    if text == "auto":
        return best_device()
    devices = available_devices()
    if text == "cuda":
        text = "cuda:0"
    for device in devices:
        if device.key == text:
            return device
    check_device_name(name)
    found = ", ".join(device.key for device in devices)
    raise DeviceError(f"device {name!r} is not available on this machine (found: {found})")


def synchronize(device: Device | str) -> None:
    """Wait until the device has finished its queued work (a no-op on the CPU)."""
    import torch

    key = device.key if isinstance(device, Device) else device
    if key.startswith("cuda"):
        torch.cuda.synchronize(key)
    elif key == "mps":
        torch.mps.synchronize()


def free_memory(device: Device | str) -> int | None:
    """Bytes a new allocation can still get on ``device``; ``None`` where unknown.

    CUDA: the driver's free memory plus what torch's allocator holds unused.
    MPS: the recommended maximum less what the driver has handed out.
    CPU: ``MemAvailable`` (Linux), else psutil when installed.
    """
    import torch

    key = device.key if isinstance(device, Device) else device
    if key.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info(key)
        cached = torch.cuda.memory_reserved(key) - torch.cuda.memory_allocated(key)
        return int(free + cached)
    if key == "mps":
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        allocated = getattr(torch.mps, "driver_allocated_memory", None)
        if recommended is None or allocated is None:
            return None
        return max(0, int(recommended()) - int(allocated()))
    return cpu_free_memory()


def cpu_free_memory() -> int | None:
    """Bytes a new allocation can still get on the CPU: ``MemAvailable`` (Linux), else psutil
    when installed; ``None`` where unknown. Needs no torch: a command checks it before any work."""
    available = _meminfo_bytes("MemAvailable")
    if available is not None:
        return available
    return _psutil_available()


def _psutil_available() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    memory: Any = psutil.virtual_memory()
    return int(memory.available)


def supported_dtypes(device: Device) -> tuple[str, ...]:
    """The dtypes a forward pass can run in on ``device`` (reduced ones through autocast)."""
    import torch
    from torch.amp import autocast_mode

    # Before autocast knew a device kind it warned and ran in float32: that must not pass as float16.
    is_available = getattr(autocast_mode, "is_autocast_available", None)
    if device.kind == "mps" and (is_available is None or not is_available("mps")):
        return ("float32",)
    if device.kind == "cuda":
        if torch.cuda.is_bf16_supported():
            return ("float32", "float16", "bfloat16")
        return ("float32", "float16")
    if device.kind == "mps":
        return ("float32", "float16")
    # CPU autocast's float16 kernels are slow, partial emulations; only bfloat16 is worth timing.
    return ("float32", "bfloat16")
