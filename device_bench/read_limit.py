"""Rate limit of the read endpoints (``GET /api/v1/...`` and ``/bench``), per client address.

Reads have their own token bucket (``READ_RATE_LIMIT_PER_MINUTE``/``READ_RATE_LIMIT_BURST``),
separate from the submissions' one: a person paging through the leaderboard never costs a
device its submission, and a client scraping in a loop gets 429 + ``Retry-After`` instead
of the server's CPU. It is a decorator on each read view rather than a ``before_request``
hook, because a hook would make :mod:`device_bench.fastpath` stand aside.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

from device_bench import errors
from device_bench.ratelimit import retry_after_s

KEY = "device_bench.read_ratelimit"  # app.extensions key of the TokenBucket (or None)
F = TypeVar("F", bound=Callable[..., Any])


def limited(view: F) -> F:
    """Make ``view`` take a read token per request (see :data:`KEY`)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        retry = retry_after_s(current_app.extensions.get(KEY), request.remote_addr or "unknown")
        if retry:
            raise errors.RateLimited("too many read requests from this client", retry)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
