"""Running work off the GUI thread: a thin layer over superqt's thread workers.

A failure never escapes as a traceback: it reaches ``on_error`` as one readable line
that the caller shows inline.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Request:
    """What a worker needs, held by the GUI thread alone (the worker gets a weak reference).

    The last reference to a request, and so to the objects its function and callbacks
    hold (a session, its workspace and file watcher), must go on the GUI thread: Qt
    objects deleted from a pool thread corrupt the event loop.
    """

    __slots__ = ("__weakref__", "args", "context", "fn", "on_error", "on_result")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_result: Callable[[Any], None],
        on_error: Callable[[str], None],
        context: QObject | None,
    ) -> None:
        self.fn, self.args = fn, args
        self.on_result, self.on_error, self.context = on_result, on_error, context

    def alive(self) -> bool:
        return self.context is None or shiboken6.isValid(self.context)


_in_flight: set[_Request] = set()


def _run(ref: weakref.ref[_Request]) -> Any:
    """The worker's side: call the request's function, keeping no reference past the call."""
    request = ref()
    if request is None:
        raise RuntimeError("the request was withdrawn")
    fn, args = request.fn, request.args
    del request
    failure: BaseException | None = None
    try:
        return fn(*args)
    except BaseException as exc:
        failure = exc
    finally:
        del fn, args
    # The traceback's frames hold the function's objects: the GUI gets the message alone.
    assert failure is not None
    raise RuntimeError(describe_error(failure)) from None


def _deliver(ref: weakref.ref[_Request], outcome: Any, *, failed: bool) -> None:
    request = ref()
    if request is None:
        return
    _in_flight.discard(request)
    if not request.alive():
        return
    if failed:
        request.on_error(str(outcome))
    else:
        request.on_result(outcome)


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None],
    on_error: Callable[[str], None],
    context: QObject | None = None,
) -> Any:
    """Run ``fn(*args)`` on the thread pool; the callbacks run on the GUI thread,
    and not at all once ``context`` (the object that asked) has been deleted."""
    # Imported on first use: superqt brings qtpy and its widgets, a large part of the
    # start-up time, and nothing runs on a worker before the first picture.
    from superqt.utils import create_worker

    request = _Request(fn, args, on_result, on_error, context)
    _in_flight.add(request)
    ref = weakref.ref(request)
    worker = create_worker(_run, ref, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(lambda result: _deliver(ref, result, failed=False))
    worker.errored.connect(lambda exc: _deliver(ref, exc, failed=True))
    worker.start()
    return worker
