"""A guard against a Qt binding that drops a reference to None on every call.

PySide6 6.12.0 on Python 3.11 returns None from its void methods (setText, setValue,
setToolTip...) without taking a reference to it. Before Python 3.12 None is reference
counted like any object, so every such call lowers its count by one; after some tens of
thousands of calls (a few hundred edits of a spin box) None's count reaches zero and the
interpreter aborts with "Fatal Python error: none_dealloc". pyproject.toml excludes that
release; this guard keeps a window alive on an environment that has it anyway, and says
how to fix the environment.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject

PROBE_CALLS = 64
# References added to None when the binding drops them: more calls than a session makes.
NONE_REFERENCE_RESERVE = 1 << 40
ADVICE = (
    "resnet-explorer: this Qt binding (PySide6 {version}) drops a reference to None on every "
    "call, which ends a long session with 'Fatal Python error: none_dealloc'. The app works "
    "around it for now; to fix it, install another release: "
    "pip install 'PySide6-Essentials>=6.5,!=6.12.0'\n"
)


def _void_call() -> Callable[[], object]:
    probe = QObject()
    return lambda: probe.setObjectName("probe")


def drops_none_references(call: Callable[[], object] | None = None) -> bool:
    """Whether ``call`` (a void method of the binding) lowers None's reference count."""
    if sys.version_info >= (3, 12):  # None is immortal: its count can never reach zero
        return False
    call = call or _void_call()
    call()  # the first call may create caches that hold None
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        call()
    return before - sys.getrefcount(None) >= PROBE_CALLS // 2


def keep_none_alive() -> None:
    """Give None more references than the calls of any session can drop (CPython only)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    count = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is a PyObject's first field
    count.value += NONE_REFERENCE_RESERVE


_checked = False


def guard_against_dropped_references() -> bool:
    """Check the binding once per process; if it drops references, warn and work around it.
    True if the workaround is on."""
    global _checked
    if _checked:
        return False
    _checked = True
    if not drops_none_references():
        return False
    import PySide6

    sys.stderr.write(ADVICE.format(version=PySide6.__version__))
    keep_none_alive()
    return True
