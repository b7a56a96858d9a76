"""A small in-process token bucket per client address.

Per worker process: with N gunicorn workers a client may get up to N times the rate.
That is enough to stop one phone (or script) from flooding the collector; a deployment
that needs a global limit puts it in the reverse proxy.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate_per_minute`` tokens refill continuously up to ``burst``; a request takes one.

    Args:
        rate_per_minute: Sustained requests per minute per key.
        burst: Requests a quiet key may send at once.
        max_keys: Bound on remembered keys; full buckets are forgotten first.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take a token for ``key``; return 0 when allowed, else seconds until one frees up."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._store(key, tokens - 1.0, now)
                return 0.0
            self._store(key, tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._forget_full(now)
        self._buckets[key] = (tokens, now)

    def _forget_full(self, now: float) -> None:
        """Drop keys whose bucket has refilled (they are indistinguishable from new ones)."""
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all busy: forget the oldest half
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for key in oldest[: self.max_keys // 2]:
                del self._buckets[key]


def retry_after_s(bucket: TokenBucket | None, key: str) -> int:
    """Take a token of ``bucket`` for ``key``: 0 when allowed (or no bucket), else the whole
    seconds until one frees up (an hour for a bucket that never refills), for Retry-After."""
    wait_s = bucket.acquire(key) if bucket else 0.0
    if wait_s <= 0:
        return 0
    return max(1, math.ceil(wait_s)) if math.isfinite(wait_s) else 3600
