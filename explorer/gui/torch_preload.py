"""Loading torch's native libraries without pausing the window.

Python maps an extension module's shared library while holding the GIL, and torch's
is hundreds of megabytes: importing torch on a worker thread would freeze the GUI
thread for a quarter of a second. A ctypes call releases the GIL, so ``dlopen`` of the
same library through ctypes first does that work in the background; Python's own
import then finds the library already loaded.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

RTLD_NOW = 2  # what Python's import uses (sys.getdlopenflags())


def torch_extension_path() -> Path | None:
    """torch's ``_C`` extension file, found without importing torch."""
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = folder / f"_C{suffix}"
        if candidate.exists():
            return candidate
    return None


def preload_torch_libraries() -> bool:
    """Map torch's native libraries with the GIL released; whether it was done.

    Best effort: where it cannot be done (no ``dlopen``, torch not found, torch
    already imported), the import that follows simply does the work itself.
    """
    if "torch" in sys.modules or not hasattr(ctypes, "CDLL") or sys.platform == "win32":
        return False
    path = torch_extension_path()
    if path is None:
        return False
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return False
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return bool(dlopen(str(path).encode(), RTLD_NOW))
