"""Configuration keys of the collector and their defaults.

The collector can be mounted into another Flask app (the web demo), so defaults are only
applied where the host app has not set a key.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL; None -> env DATABASE_URL, else SQLite in the instance folder.
    "DATABASE_URL": None,
    "MAX_REPORT_BYTES": 64 * 1024,  # a real report is < 2 KiB
    # A submission must send its whole body within this time (else 408), so a client that
    # stalls mid-body cannot hold a server thread longer (device_bench.read_deadline).
    "BODY_TIMEOUT_S": 10.0,
    # Threads per worker running complete requests under gunicorn's ASGI worker
    # (device_bench.asgi); slow clients wait in the event loop, not in these.
    "ASGI_THREADS": 16,
    "SUBMIT_TOKEN": None,  # set -> POST needs "Authorization: Bearer <token>"
    "RATE_LIMIT_PER_MINUTE": 120,  # per client address and worker process; 0/None disables
    "RATE_LIMIT_BURST": 30,
    # Reads (GET /api/v1/..., /bench) have their own bucket, same rules.
    "READ_RATE_LIMIT_PER_MINUTE": 300,
    "READ_RATE_LIMIT_BURST": 60,
    # A commit running longer than this means the database is locked or stalled: waiting
    # submissions are answered 503 + Retry-After instead of holding their threads.
    "WRITE_STALL_S": 0.5,
    # The readiness check (GET /api/v1/ready) fails when its write takes longer.
    "READY_TIMEOUT_S": 2.0,
    # Leaderboard aggregates are reused this long (and until this process stores a report).
    "AGGREGATE_CACHE_S": 5.0,
    "DASHBOARD_PAGE_SIZE": 100,  # leaderboard rows per /bench page
    "DASHBOARD_OPTIONS_MAX": 200,  # values offered per filter box on /bench
    # Set of sha256 digests of published models, or a predicate; None accepts any model.
    "KNOWN_MODEL_HASHES": None,
    "MIN_REPORTS": 3,  # leaderboard cells with fewer valid reports are flagged low_count
    # "model/format/quantization" (or just "model") -> {"map": float}, for the scatter plot.
    "MODEL_METRICS": {},
    "AUTO_MIGRATE": True,  # apply pending schema migrations when the app starts
    "PAGE_SIZE_MAX": 500,
    # Standalone app: answer new, well-formed submissions in device_bench.fastpath, outside
    # Flask's request machinery (everything else still goes through Flask).
    "SUBMIT_FAST_PATH": True,
}

SQLITE_FILENAME = "device_bench.sqlite"


def apply_defaults(app: Flask) -> None:
    """Fill in every collector key the app has not configured."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = os.environ.get("DATABASE_URL") or _sqlite_url(app)


def _sqlite_url(app: Flask) -> str:
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, SQLITE_FILENAME)
