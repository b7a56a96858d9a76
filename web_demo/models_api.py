"""Model variants, read-only: the listing, the export files, the fp32 reference.

The exports are made by ``sdk export --format tfjs`` (``make demo`` runs it); the server
never builds or changes them.

* ``GET /api/models``: every offered variant with its status (ready, missing, broken),
  identity (sha256) and, when something is missing, the command that makes it.
* ``GET /models/<variant>/<file>``: a file of a complete export folder, nothing else.
* ``GET /api/models/<variant>/reference``: reference detections on the probe images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from sdk.spec import DetectorSpec, SpecError
from web_demo import reference
from web_demo.files import send_inside
from web_demo.probes import probe_urls
from web_demo.variants import Variant, describe, is_stale, offered, parse_name, ready_folder

bp = Blueprint("models", __name__)

MAKE_HINT = "run 'make demo' (or 'sdk export --format tfjs') and reload this page"


def export_command(model: str, quantization: str, fmt: str = "tfjs") -> str:
    """The command that writes one variant's folder."""
    return f"sdk export --format {fmt} --model {model} --quantize {quantization}"


def _exports_dir() -> str:
    return current_app.config["EXPORTS_DIR"]


def not_found(error: str, message: str, **extra: Any) -> tuple[Response, int]:
    """A JSON 404 the page can show as is."""
    return jsonify(error=error, message=message, **extra), 404


def _ready(variant: Variant, folder: Path) -> dict[str, Any]:
    try:
        facts = describe(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:  # half-copied or hand-edited
        return {"status": "broken", "message": f"{folder.name}: unreadable export ({exc})"}
    notes = []
    if is_stale(folder, variant.model):
        notes.append(f"exported from older weights of {variant.model!r}: run 'make demo' to "
                     "re-export")
    ref = reference.load(folder)
    if ref.data is None:
        notes.append(f"benchmark accuracy fingerprint unavailable: {ref.problem}")
    return {"status": "ready", "message": "; ".join(notes), **facts,
            "reference": ref.data is not None}


def variant_entry(variant: Variant) -> dict[str, Any]:
    """One row of the listing."""
    folder = ready_folder(_exports_dir(), variant.name)
    if folder is not None:
        status = _ready(variant, folder)
    else:
        status = {"status": "missing", "message": "not exported yet: run 'make demo' or '"
                  f"{export_command(variant.model, variant.quantization, variant.format)}'"}
    return {"name": variant.name, "model": variant.model, "quantization": variant.quantization,
            "format": variant.format, "url": f"/models/{variant.name}/", **status}


@bp.get("/api/models")
def list_models() -> Response:
    """Offered variants (configured ones first) and what to run when some are missing."""
    config = current_app.config
    variants = offered(_exports_dir(), config["MODELS"], config["QUANTIZATIONS"])
    entries = [variant_entry(v) for v in variants]
    ready = [e["name"] for e in entries if e["status"] == "ready"]
    return jsonify(variants=entries, default=ready[0] if ready else None, hint=MAKE_HINT)


def _unavailable(name: str) -> tuple[Response, int]:
    return not_found("model_not_found", f"model variant {name!r} is not available ({MAKE_HINT})",
                     variant=name)


@bp.get("/models/<name>/<path:filename>")
def model_file(name: str, filename: str) -> Response | tuple[Response, int]:
    """A file inside one export folder (model.json, shards, detector.json)."""
    folder = ready_folder(_exports_dir(), name)
    return _unavailable(name) if folder is None else send_inside(folder, filename)


@bp.get("/api/models/<name>/reference")
def model_reference(name: str) -> Response | tuple[Response, int]:
    """fp32 reference detections of the variant on the probe images (its ``reference.json``)."""
    folder = ready_folder(_exports_dir(), name)
    variant = parse_name(name)
    if folder is None or variant is None:
        return _unavailable(name)
    try:
        spec = DetectorSpec.load(folder)
    except (OSError, SpecError) as exc:
        return not_found("reference_missing", f"{name}: unreadable detector.json ({exc})",
                         variant=name)
    ref = reference.load(folder)
    if ref.data is None:
        command = export_command(variant.model, variant.quantization, variant.format)
        return not_found("reference_missing",
                         f"accuracy fingerprint unavailable: {ref.problem}. The benchmark runs "
                         f"but reports its accuracy as unchecked; re-export with '{command} "
                         "--force'", variant=name)
    probes = [{"url": url, "sha256": sha, "detections": found} for url, sha, found in
              zip(probe_urls(), ref.data["probes"]["sha256"], ref.data["detections"], strict=True)]
    # The reference was made with the spec's NMS defaults: the browser must use the same.
    return jsonify(variant=name, source=ref.data.get("source"),
                   description=ref.data["probes"].get("description"),
                   score_threshold=spec.nms.score_threshold, probes=probes)
