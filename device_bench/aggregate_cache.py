"""A short-lived cache of the leaderboard aggregates, so reads do not recompute them each time.

The leaderboard, the variants summary and the dashboard's filter options are computed from
every valid report (medians in Python): with tens of thousands of reports that is the
bulk of a read's cost. An entry is reused for ``ttl_s`` seconds, and dropped as soon as
this process stores a report (:meth:`AggregateCache.invalidate`), so a device sees its own
report at once; reports stored by other workers or hosts show up within ``ttl_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask

KEY = "device_bench.aggregate_cache"  # app.extensions key
T = TypeVar("T")


class AggregateCache:
    """Values by key, each valid for ``ttl_s`` seconds or until :meth:`invalidate`.

    Args:
        ttl_s: Lifetime of an entry; 0 turns the cache off.
        max_entries: Bound on the entries kept (the keys include client-chosen filters);
            the oldest go first.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self, ttl_s: float, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Hashable, tuple[float, int, Any]] = {}  # key -> (at, generation, v)
        self._generation = 0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget every entry (this process stored a report); O(1), called per submission."""
        self._generation += 1  # an int store: atomic under the GIL, no lock on the hot path

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the cached value of ``key``, or ``compute()`` it and keep it.

        The returned value is shared between requests: callers must not modify it.
        """
        if self.ttl_s <= 0:
            return compute()
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[1] == self._generation and now - entry[0] < self.ttl_s:
            return entry[2]
        generation = self._generation  # read before computing: a store meanwhile wins
        value = compute()
        with self._lock:
            self._entries.pop(key, None)
            if len(self._entries) >= self.max_entries:
                oldest = min(self._entries, key=lambda k: self._entries[k][0])
                del self._entries[oldest]
            self._entries[key] = (now, generation, value)
        return value


def of(app: Flask) -> AggregateCache:
    """The app's cache (created by :func:`device_bench.app.register`)."""
    return app.extensions[KEY]
