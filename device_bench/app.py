"""App factory: run the collector on its own, or mount it into another Flask app.

Standalone: ``gunicorn 'device_bench.app:create_app()'`` (SQLite in the instance folder;
set ``DATABASE_URL`` for PostgreSQL), or for many devices gunicorn's asyncio worker with
:mod:`device_bench.asgi`. Mounted: ``device_bench.register(app)`` after the host app has
loaded its configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from device_bench import (
    aggregate_cache,
    api,
    config,
    dashboard,
    db,
    fastpath,
    read_limit,
    security_headers,
    submit,
)


def register(app: Flask) -> None:
    """Mount the collector (``/api/v1`` and ``/bench``) on ``app`` and open its database."""
    config.apply_defaults(app)
    app.extensions[submit.RATE_LIMITER_KEY] = submit.make_rate_limiter(app.config)
    app.extensions[read_limit.KEY] = submit.make_rate_limiter(app.config, "READ_")
    app.extensions[aggregate_cache.KEY] = aggregate_cache.AggregateCache(
        float(app.config["AGGREGATE_CACHE_S"] or 0)
    )
    app.register_blueprint(api.bp)
    app.register_blueprint(dashboard.bp)
    db.init_app(app)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the standalone collector app.

    Args:
        test_config: Overrides applied last. Without it, ``instance/config.py`` and
            ``DEVICE_BENCH_*`` environment variables (JSON values, e.g.
            ``DEVICE_BENCH_RATE_LIMIT_PER_MINUTE=0``) are loaded.
    """
    app = Flask(__name__, instance_relative_config=True)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("DEVICE_BENCH")
    else:
        app.config.from_mapping(test_config)
    register(app)
    # Mounted, the host app sends its own headers (the web demo does); alone, these.
    app.extensions[security_headers.KEY] = security_headers.COLLECTOR_HEADERS
    app.wsgi_app = security_headers.SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["SUBMIT_FAST_PATH"]:
        fastpath.install(app)  # outside the middleware: it adds the same headers itself

    @app.get("/")
    def home() -> Any:
        return app.redirect("/bench/")

    return app
