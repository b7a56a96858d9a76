"""Static files: the page's own assets, the browser runtime and the pinned npm packages.

* ``/static/<file>``: ``web_demo/static`` (page scripts, CSS, the sample images shown
  without a camera).
* ``/static/sdk/<file>``: the browser runtime, ``sdk/js``.
* ``/static/vendor/<package>/<file>``: the ``dist/`` folder of a pinned ``@tensorflow``
  package from ``node_modules`` (installed by ``npm install``; never a CDN).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify

from web_demo.files import send_inside

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Pictures to detect on without a camera (python -m web_demo.make_samples); the benchmark's
# probe images are another set (web_demo.probes).
SAMPLES_DIR = STATIC_DIR / "samples"
# Only these packages' dist/ folders are reachable, not the whole node_modules tree.
VENDOR_PACKAGES = (
    "tfjs", "tfjs-core", "tfjs-converter", "tfjs-backend-cpu", "tfjs-backend-webgl",
    "tfjs-backend-wasm", "tfjs-backend-webgpu",
)
VENDOR_SCOPE = "@tensorflow"

bp = Blueprint("assets", __name__)


def sample_paths() -> list[Path]:
    """The bundled sample images, in a fixed order."""
    return sorted(SAMPLES_DIR.glob("*.jpg"))


def vendor_dir(package: str) -> Path:
    return Path(current_app.config["NODE_MODULES"]) / VENDOR_SCOPE / package / "dist"


def vendor_url(package: str, filename: str) -> str:
    return f"/static/vendor/{package}/{filename}"


def sdk_url(filename: str) -> str:
    return f"/static/sdk/{filename}"


@bp.get("/static/<path:filename>")
def static(filename: str) -> Response:
    """The demo page's own files."""
    return send_inside(STATIC_DIR, filename)


@bp.get("/static/sdk/<path:filename>")
def sdk_js(filename: str) -> Response:
    """The browser runtime (``sdk/js``)."""
    return send_inside(current_app.config["SDK_JS_DIR"], filename)


@bp.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response | tuple[Response, int]:
    """A file of a pinned TF.js package (including the ``.wasm`` binaries)."""
    if package not in VENDOR_PACKAGES:
        abort(404)
    folder = vendor_dir(package)
    if not os.path.isdir(folder):
        return jsonify(error="vendor_missing",
                       message=f"{VENDOR_SCOPE}/{package} is not installed: run 'npm install' "
                               "in the project folder (or 'make setup')"), 404
    return send_inside(folder, filename)
