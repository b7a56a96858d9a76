"""Device benchmark collector: report API, durable storage, leaderboard and dashboard.

``register(app)`` mounts it into a Flask app; ``create_app()`` (in :mod:`device_bench.app`)
runs it on its own. The protocol it checks against lives in :mod:`sdk.bench.protocol`.
Flask and SQLAlchemy are imported on first use of either name, so importing the package
(or a light module of it) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "register"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from device_bench import app

        return getattr(app, name)
    raise AttributeError(f"module 'device_bench' has no attribute {name!r}")
