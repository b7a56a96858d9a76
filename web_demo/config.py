"""Configuration keys of the web demo and their defaults.

Relative paths are resolved against the current working directory when the app is created
(``sdk serve`` and ``gunicorn`` are both started from the project folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

import sdk

PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # Where 'sdk export --format tfjs' wrote the exports, one folder per variant:
    # <model>-tfjs-<quantization>/. The server only reads it.
    "EXPORTS_DIR": "exports",
    # The variants offered in the selectors ('make demo' exports these).
    "MODELS": ("fast", "accurate"),
    "QUANTIZATIONS": ("fp32", "fp16", "uint8"),
    # Pinned npm packages (never a CDN) and the browser runtime.
    "NODE_MODULES": str(PROJECT_DIR / "node_modules"),
    "SDK_JS_DIR": str(Path(sdk.__file__).resolve().parent / "js"),
    # Text responses at least this large are gzip-compressed when the client accepts it.
    "COMPRESS_MIN_BYTES": 500,
    # Where 'sdk serve' keeps its self-signed certificate and key (None: the instance folder).
    "CERT_DIR": None,
}


def apply_defaults(app: Flask) -> None:
    """Fill in every key the app has not configured and make paths absolute."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    for key in ("EXPORTS_DIR", "NODE_MODULES", "SDK_JS_DIR"):
        app.config[key] = os.path.abspath(app.config[key])
    # Environment variables arrive as JSON; accept a comma-separated string too.
    for key in ("MODELS", "QUANTIZATIONS"):
        value = app.config[key]
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        app.config[key] = tuple(value)
