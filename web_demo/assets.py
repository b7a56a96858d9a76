"""Static files: the page's own assets, the browser runtime and the pinned npm packages.

* ``/static/<file>``: ``web_demo/static`` (page scripts, CSS, the sample images shown
  without a camera).
* ``/static/sdk/<file>``: the browser runtime, ``sdk/js`` (also its Web Worker script).
* ``/static/vendor/<package>/<file>``: a folder of a pinned npm package from
  ``node_modules`` (installed by ``npm install``; never a CDN): TF.js, LiteRT.js and
  onnxruntime-web, with their ``.wasm`` binaries.

:data:`IMPORTS` is the page's import map: the bare specifiers the runtime imports, mapped
to those files.
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
# URL name -> folder under node_modules. Only these folders are reachable, not the whole
# node_modules tree. LiteRT.js is served whole: it finds its wasm/ folder beside dist/.
VENDOR_FOLDERS: dict[str, str] = {
    **{name: f"@tensorflow/{name}/dist" for name in (
        "tfjs", "tfjs-core", "tfjs-converter", "tfjs-backend-cpu", "tfjs-backend-webgl",
        "tfjs-backend-wasm", "tfjs-backend-webgpu")},
    "litertjs-core": "@litertjs/core",
    "litertjs-wasm-utils": "@litertjs/wasm-utils/dist",
    "onnxruntime-web": "onnxruntime-web/dist",
}

bp = Blueprint("assets", __name__)


def vendor_url(package: str, filename: str) -> str:
    return f"/static/vendor/{package}/{filename}"


def sdk_url(filename: str) -> str:
    return f"/static/sdk/{filename}"


# Bare specifiers the browser runtime imports, mapped to the pinned npm files. The backends'
# "@tensorflow/tfjs-core" must be the very module instance the tfjs bundle contains (one
# engine, one kernel registry); the Node built-ins the TF.js wasm ES build names (used only
# under Node) resolve to an empty stand-in shipped with the runtime. onnxruntime-web's wasm
# and WebGPU builds are separate entries: the WebGPU one (and its larger wasm) is fetched
# only when WebGPU is tried.
_NODE_BUILTINS = ("fs", "path", "os", "perf_hooks", "worker_threads")
IMPORTS: dict[str, str] = {
    "@tensorflow/tfjs": vendor_url("tfjs", "tf.fesm.min.js"),
    "@tensorflow/tfjs-core": vendor_url("tfjs", "tf.fesm.min.js"),
    "@tensorflow/tfjs-backend-wasm": vendor_url("tfjs-backend-wasm", "tf-backend-wasm.fesm.min.js"),
    "@tensorflow/tfjs-backend-webgpu": vendor_url(
        "tfjs-backend-webgpu", "tf-backend-webgpu.fesm.min.js"),
    "@litertjs/core": vendor_url("litertjs-core", "dist/index.js"),
    "@litertjs/wasm-utils": vendor_url("litertjs-wasm-utils", "index.js"),
    "onnxruntime-web/wasm": vendor_url("onnxruntime-web", "ort.wasm.min.mjs"),
    "onnxruntime-web/webgpu": vendor_url("onnxruntime-web", "ort.webgpu.min.mjs"),
    **{name: sdk_url("node-shim.js") for name in _NODE_BUILTINS},
}


def sample_paths() -> list[Path]:
    """The bundled sample images, in a fixed order."""
    return sorted(SAMPLES_DIR.glob("*.jpg"))


def vendor_dir(package: str) -> Path:
    return Path(current_app.config["NODE_MODULES"]) / VENDOR_FOLDERS[package]


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
    """A file of a pinned npm package (including the ``.wasm`` binaries)."""
    if package not in VENDOR_FOLDERS:
        abort(404)
    folder = vendor_dir(package)
    if not os.path.isdir(folder):
        name = VENDOR_FOLDERS[package].removesuffix("/dist")
        return jsonify(error="vendor_missing",
                       message=f"{name} is not installed: run 'npm install' in the project "
                               "folder (or 'make setup')"), 404
    return send_inside(folder, filename)
