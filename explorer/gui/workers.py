"""Running work off the GUI thread: a thin layer over superqt's thread workers.

A failure never escapes as a traceback: it reaches ``on_error`` as one readable line
that the caller shows inline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from superqt.utils import create_worker


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None],
    on_error: Callable[[str], None],
) -> Any:
    """Run ``fn(*args)`` on the thread pool; the callbacks run on the GUI thread."""
    worker = create_worker(fn, *args, _start_thread=False)
    worker.returned.connect(on_result)
    worker.errored.connect(lambda exc: on_error(describe_error(exc)))
    worker.start()
    return worker
