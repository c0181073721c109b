"""How a worker process ended, in words a person can act on."""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from pathlib import Path

_SIGNAL_WORDS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "an instruction this CPU does not have",
    signal.SIGFPE: "arithmetic fault",
}
# What glibc and the sanitizers print as they abort on a damaged heap.
_HEAP_CORRUPTION = re.compile(
    r"free\(\)|double free|corrupted (size|double-linked|top size)|malloc\(\)|munmap_chunk"
    r"|heap-buffer-overflow"
)


def _cgroup_events_file() -> Path | None:
    """This process's cgroup v2 ``memory.events``, where the kernel counts its OOM kills."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            path = Path("/sys/fs/cgroup") / line[3:].lstrip("/") / "memory.events"
            return path if path.exists() else None
    return None


def oom_kill_count() -> int | None:
    """How many processes the kernel's out-of-memory killer has ended in this cgroup, if it says."""
    path = _cgroup_events_file()
    if path is None:
        return None
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def describe_ending(returncode: int, stderr_tail: Sequence[str], oom_killed: bool) -> str:
    """ "torch crashed: SIGABRT, an abort (heap corruption)", "killed by the out-of-memory killer"…"""
    if returncode < 0:
        number = -returncode
        if number == signal.SIGKILL:
            if oom_killed:
                return "killed (SIGKILL) by the kernel's out-of-memory killer: the run needed more memory"
            return "killed (SIGKILL): by the system or another program, often the out-of-memory killer"
        if number == signal.SIGTERM:
            return "ended (SIGTERM) by the system or another program"
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        cause = "heap corruption" if _HEAP_CORRUPTION.search("\n".join(stderr_tail)) else None
        words = cause or _SIGNAL_WORDS.get(number)  # type: ignore[call-overload]
        return f"torch crashed: {name}, {words}" if words else f"torch crashed: {name}"
    if returncode == 0:
        return "the worker process exited without a result"
    return f"the worker process exited with status {returncode} without a result"
