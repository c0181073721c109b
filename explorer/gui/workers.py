"""Running work off the GUI thread: a thin layer over superqt's thread workers.

A failure never escapes as a traceback: it reaches ``on_error`` as one readable line
that the caller shows inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject
from superqt.utils import create_worker


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None],
    on_error: Callable[[str], None],
    context: QObject | None = None,
) -> Any:
    """Run ``fn(*args)`` on the thread pool; the callbacks run on the GUI thread,
    and not at all once ``context`` (the object that asked) has been deleted."""

    def alive() -> bool:
        return context is None or shiboken6.isValid(context)

    worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(lambda result: alive() and on_result(result))
    worker.errored.connect(lambda exc: alive() and on_error(describe_error(exc)))
    worker.start()
    return worker
