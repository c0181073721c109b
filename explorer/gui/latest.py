"""The newest request wins.

Analyses, drawings, diffs and module checks all run away from the GUI thread, and a
person edits faster than they finish. Each request gets a ticket; only the outcome of
the newest ticket is used, so an old, slow result never replaces a newer one. With
``one_at_a_time`` a request made while another runs waits, replacing any request that
was already waiting, and starts when the running one ends: fast edits never pile up
work, and what runs next is always the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject

from explorer.gui.workers import run_in_thread

T = TypeVar("T")


def _always() -> bool:
    return True


class Latest(Generic[T]):
    """Starts requests through ``start(value, ticket)``; the owner reports each outcome
    with ``finished(ticket)``, which says whether to use it.

    ``may_start`` can hold requests back (a helper process still starting, a delay still
    running); call ``resume`` once it may say yes.
    """

    def __init__(
        self,
        start: Callable[[T, int], object],
        *,
        one_at_a_time: bool = False,
        may_start: Callable[[], bool] = _always,
    ) -> None:
        self._start = start
        self._one_at_a_time = one_at_a_time
        self._may_start = may_start
        self._newest = 0
        self._newest_value: T | None = None
        self._waiting: tuple[int, T] | None = None
        self.running = 0
        self.dropped = 0  # outcomes that came after a newer request was made

    @property
    def newest(self) -> int:
        """The ticket of the newest request."""
        return self._newest

    @property
    def outstanding(self) -> T | None:
        """The newest request, until its outcome arrives (None: nothing is on its way)."""
        return self._newest_value

    @property
    def busy(self) -> bool:
        return self._newest_value is not None or self.running > 0

    def request(self, value: T) -> None:
        """Ask for ``value``; every earlier request's outcome will be dropped."""
        self._newest += 1
        self._newest_value = value
        self._waiting = (self._newest, value)
        self.resume()

    def resume(self) -> None:
        """Start the waiting request if nothing holds it back."""
        if self._waiting is None or (self._one_at_a_time and self.running) or not self._may_start():
            return
        (ticket, value), self._waiting = self._waiting, None
        self.running += 1
        self._start(value, ticket)

    def finished(self, ticket: int, resume: bool = True) -> bool:
        """The work for ``ticket`` ended: True if it is the newest request's (use its
        outcome), False if a newer request was made since (drop it). With ``resume``
        False, the request waiting starts at the owner's ``resume()``: after the outcome
        is used, say."""
        self.running = max(self.running - 1, 0)
        newest = ticket == self._newest
        if newest:
            self._newest_value = None
        else:
            self.dropped += 1
        if resume:
            self.resume()
        return newest

    def cancel(self) -> None:
        """Nothing is wanted any more: the outcome of every request made so far is dropped."""
        self._newest += 1
        self._waiting = None
        self._newest_value = None

    def abandon(self) -> None:
        """Forget the work running (it will never report) and any request waiting."""
        self.running = 0
        self._waiting = None
        self._newest_value = None


def latest_in_thread(
    work: Callable[[T], Any],
    on_result: Callable[[Any], None],
    on_error: Callable[[str], None],
    context: QObject,
    *,
    one_at_a_time: bool = False,
) -> Latest[T]:
    """Requests that run ``work(value)`` on a worker thread; ``on_result`` or ``on_error``
    (on the GUI thread) hears only from the newest."""

    def start(value: T, ticket: int) -> None:
        def result(value: Any) -> None:
            if latest.finished(ticket):
                on_result(value)

        def error(message: str) -> None:
            if latest.finished(ticket):
                on_error(message)

        run_in_thread(work, value, on_result=result, on_error=error, context=context)

    latest: Latest[T] = Latest(start, one_at_a_time=one_at_a_time)
    return latest
