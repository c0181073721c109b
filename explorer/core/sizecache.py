"""A cache of immutable results bounded by their total size, not by their count.

A count alone does not bound memory here: the largest spec the app allows has
hundreds of times the layers of resnet18, so a few dozen of them held gigabytes.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class SizeBoundedCache(Generic[P, R]):
    """``function`` with its results kept, least recently used dropped first, while
    at most ``max_entries`` results of at most ``max_size`` in all (as ``size_of``
    measures them) are held. Safe to call from several threads."""

    def __init__(
        self, function: Callable[P, R], max_entries: int, max_size: int, size_of: Callable[[R], int]
    ) -> None:
        self.__wrapped__ = function
        self.max_entries = max_entries
        self.max_size = max_size
        self._size_of = size_of
        self._held: OrderedDict[Hashable, tuple[R, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        functools.update_wrapper(self, function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.get_or_compute(lambda: self.__wrapped__(*args, **kwargs), *args, **kwargs)

    def get_or_compute(self, compute: Callable[[], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """The result held for these arguments, or ``compute()`` (which must return what
        the function would), then held for them."""
        key: Hashable = (args, tuple(sorted(kwargs.items())))
        with self._lock:
            found = self._held.get(key)
            if found is not None:
                self._held.move_to_end(key)
                return found[0]
        # Computed outside the lock: other threads keep using the cache meanwhile.
        result = compute()
        size = self._size_of(result)
        with self._lock:
            if key not in self._held and size <= self.max_size:
                self._held[key] = (result, size)
                self._size += size
                while len(self._held) > self.max_entries or self._size > self.max_size:
                    _, (_, dropped) = self._held.popitem(last=False)
                    self._size -= dropped
        return result

    @property
    def held_size(self) -> int:
        """The total size of the results held now."""
        with self._lock:
            return self._size

    @property
    def held_entries(self) -> int:
        with self._lock:
            return len(self._held)

    def cache_clear(self) -> None:
        with self._lock:
            self._held.clear()
            self._size = 0


def size_bounded_cache(
    max_entries: int, max_size: int, size_of: Callable[[Any], int]
) -> Callable[[Callable[P, R]], SizeBoundedCache[P, R]]:
    """Decorate a function of immutable, hashable arguments (see ``SizeBoundedCache``)."""

    def decorate(function: Callable[P, R]) -> SizeBoundedCache[P, R]:
        return SizeBoundedCache(function, max_entries, max_size, size_of)

    return decorate
