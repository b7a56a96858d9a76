"""App factory of the web demo: the page, the browser runtime, the models and the collector.

The app serves the TF.js exports ``sdk export`` wrote and never builds any: it imports
neither TensorFlow nor the exporters (a test checks), so it starts in a second.

``sdk serve`` runs it under gunicorn's asyncio worker (:mod:`web_demo.server`, HTTPS for
phones); ``gunicorn 'web_demo.app:create_app()'`` runs it with a WSGI worker (behind a
reverse proxy). The device benchmark collector
(:mod:`device_bench`) is mounted in the same app, so the page's "Run benchmark" button
posts to ``/api/v1/reports`` on the same origin and ``/bench`` shows the leaderboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

import device_bench
from web_demo import assets, compress, headers, models_api, pages, probes
from web_demo import config as settings

# Paths whose errors are read by scripts, not people: answer them in JSON.
_JSON_PREFIXES = ("/api/", "/models/", "/static/")


def _error(exc: HTTPException) -> Any:
    if request.path.startswith(_JSON_PREFIXES):
        return jsonify(error=(exc.name or "error").lower().replace(" ", "_"),
                       message=exc.description), exc.code
    return render_template("error.html", error=exc), exc.code


def _load_config(app: Flask, overrides: Mapping[str, Any] | None, from_env: bool) -> None:
    if from_env:
        app.config.from_pyfile("config.py", silent=True)
        # JSON values, e.g. WEB_DEMO_EXPORTS_DIR='"/srv/exports"'
        app.config.from_prefixed_env("WEB_DEMO")
        app.config.from_prefixed_env("DEVICE_BENCH")
    app.config.from_mapping(overrides or {})
    settings.apply_defaults(app)


def load_config(config: Mapping[str, Any] | None = None, *, from_env: bool = True,
                ) -> tuple[dict[str, Any], Path]:
    """The configuration :func:`create_app` would use, and the instance folder, without
    creating the app (nothing is opened: the server creates the app in its worker)."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    _load_config(app, config, from_env)
    return dict(app.config), Path(app.instance_path)


def create_app(config: Mapping[str, Any] | None = None, *, from_env: bool | None = None) -> Flask:
    """Create the demo app.

    Args:
        config: Settings applied last (see :data:`web_demo.config.DEFAULTS` and
            :data:`device_bench.config.DEFAULTS`).
        from_env: Load ``instance/config.py`` and ``WEB_DEMO_*`` / ``DEVICE_BENCH_*``
            environment variables first. Defaults to True without ``config`` (production)
            and False with it (tests see only what they pass, as in flaskr).
    """
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    _load_config(app, config, config is None if from_env is None else from_env)
    headers.init_app(app, inline_scripts=[pages.import_map_json()])
    compress.init_app(app)
    for blueprint in (pages.bp, assets.bp, models_api.bp, probes.bp):
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _error)
    device_bench.register(app)
    return app
