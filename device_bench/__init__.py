"""Device benchmark collector: report API, durable storage, leaderboard and dashboard.

``register(app)`` mounts it into a Flask app; ``create_app()`` (in :mod:`device_bench.app`)
runs it on its own. The protocol it checks against lives in :mod:`sdk.bench.protocol`.
"""

from device_bench.app import create_app, register

__all__ = ["create_app", "register"]
