"""Faults a test can make the worker process suffer, to prove the app survives each.

Reached only through the ``RESNET_EXPLORER_TEST_FAULT`` environment variable, which no
spec file, flag or setting of the app sets: the worker reads it at the first progress of a
job (at the start of a job that reports none), or before torch's import for ``no-start``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from typing import BinaryIO

FAULT_ENV = "RESNET_EXPLORER_TEST_FAULT"
# Also test-only: the supervisor's stall deadline in seconds, so a test of a hang is short.
STALL_ENV = "RESNET_EXPLORER_TEST_STALL_S"
FAULTS = ("abort", "segfault", "hang", "kill", "garbage", "exit", "no-start")


def inject(fault: str, out: BinaryIO) -> None:
    if fault == "abort":
        os.abort()
    elif fault == "segfault":
        ctypes.string_at(0)
    elif fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif fault == "garbage":
        out.write(b"this is not a frame\n" * 4)
        out.flush()
        time.sleep(3600)
    elif fault == "exit":
        os._exit(0)
    elif fault == "hang":
        while True:  # ignores cancels, as a kernel stuck in native code would
            time.sleep(3600)
