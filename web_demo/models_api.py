"""Model variants: the listing with build status, the export files, the fp32 reference.

* ``GET /api/models``: every offered variant with its status (ready, queued, building,
  failed, unavailable, missing), identity (sha256) and the build progress.
* ``GET /models/<variant>/<file>``: a file of a complete export folder, nothing else.
* ``GET /api/models/<variant>/reference``: reference detections on the probe images.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for

from web_demo import reference
from web_demo.builder import Builder
from web_demo.files import send_inside
from web_demo.variants import Variant, describe, is_complete, offered, parse_name

BUILDER_KEY = "web_demo.builder"
bp = Blueprint("models", __name__)

_MISSING_HINT = ("not exported yet: run 'make demo' or "
                 "'sdk export --format tfjs --model {model} --quantize {quant}'")


def builder() -> Builder:
    return current_app.extensions[BUILDER_KEY]


def _exports_dir() -> str:
    return current_app.config["EXPORTS_DIR"]


def not_found(error: str, message: str, **extra: Any) -> tuple[Response, int]:
    """A JSON 404 the page can show as is."""
    return jsonify(error=error, message=message, **extra), 404


def _ready(variant: Variant, note: str) -> dict[str, Any]:
    folder = variant.folder(_exports_dir())
    try:
        facts = describe(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # half-copied or hand-edited
        return {"status": "broken", "message": f"{folder.name}: unreadable export ({exc})"}
    return {"status": "ready", "message": note, **facts,
            "reference": reference.is_current(_exports_dir(), variant.model)}


def _status(variant: Variant, build: dict[str, Any]) -> dict[str, Any]:
    state = build["variants"].get(variant.name) or {"state": "missing", "message": ""}
    if is_complete(variant.folder(_exports_dir())):
        if state["state"] in ("queued", "building"):  # stale: served until its rebuild lands
            return _ready(variant, f"older weights; rebuild {state['state']}")
        return _ready(variant, state["message"])  # e.g. "export degraded"
    if state["state"] not in ("missing", "ready"):
        return {"status": state["state"], "message": state["message"]}
    hint = _MISSING_HINT.format(model=variant.model, quant=variant.quantization)
    return {"status": "missing", "message": hint}


def variant_entry(variant: Variant, build: dict[str, Any]) -> dict[str, Any]:
    """One row of the listing."""
    return {
        "name": variant.name, "model": variant.model, "quantization": variant.quantization,
        "format": "tfjs", "url": f"/models/{variant.name}/", **_status(variant, build),
    }


@bp.get("/api/models")
def list_models() -> Response:
    """Offered variants (configured ones first) and the build progress."""
    build = builder().state.snapshot()
    config = current_app.config
    variants = offered(_exports_dir(), config["MODELS"], config["QUANTIZATIONS"])
    entries = [variant_entry(v, build) for v in variants]
    ready = [e["name"] for e in entries if e["status"] == "ready"]
    build.pop("variants")
    return jsonify(variants=entries, default=ready[0] if ready else None, build=build)


def _ready_variant(name: str) -> Variant | None:
    variant = parse_name(name)
    if variant is None or not is_complete(variant.folder(_exports_dir())):
        return None
    return variant


@bp.get("/models/<name>/<path:filename>")
def model_file(name: str, filename: str) -> Response | tuple[Response, int]:
    """A file inside one export folder (model.json, shards, detector.json)."""
    variant = _ready_variant(name)
    if variant is None:
        return not_found("model_not_found", f"model variant {name!r} is not available",
                         variant=name)
    return send_inside(variant.folder(_exports_dir()), filename)


@bp.get("/api/models/<name>/reference")
def model_reference(name: str) -> Response | tuple[Response, int]:
    """fp32 reference detections of the variant's model on the probe images."""
    variant = _ready_variant(name)
    if variant is None:
        return not_found("model_not_found", f"model variant {name!r} is not available",
                         variant=name)
    data = reference.load(_exports_dir(), variant.model)
    if data is None:
        return not_found("reference_missing",
                         f"no fp32 reference detections for {variant.model!r} yet; the "
                         "benchmark runs but its accuracy check is marked unchecked",
                         variant=name)
    probes = [{**p, "url": url_for("assets.static", filename=f"samples/{p['name']}")}
              for p in data["probes"]]
    return jsonify(model=variant.model, score_threshold=data["score_threshold"], probes=probes)
