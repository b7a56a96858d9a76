"""The model variants the demo offers: names, folders, readiness and identity.

A variant is one export folder ``<EXPORTS_DIR>/<model>-<format>-<quantization>/`` written by
``sdk export`` (``make demo`` runs it) in a format a browser runs: ``tfjs`` (TF.js:
``model.json`` and its weight shards), ``tflite`` (LiteRT.js) or ``onnx`` (onnxruntime-web),
with ``detector.json`` and ``reference.json``. The server only reads these folders. Besides
the configured TF.js models x quantizations, any other complete export of those formats is
offered.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk.exports import (
    export_dirname,
    is_complete,
    list_exports,
    parse_export_dirname,
    provenance,
    variant_accuracy,
)
from sdk.spec import SPEC_FILENAME

FORMAT = "tfjs"  # the format of the configured variants
FORMATS = ("tfjs", "tflite", "onnx")  # what a browser runs: TF.js, LiteRT.js, onnxruntime-web
MODEL_FILE = "model.json"
MODEL_FILES = {"tfjs": MODEL_FILE, "tflite": "model.tflite", "onnx": "model.onnx"}


@dataclass(frozen=True)
class Variant:
    """One servable (or expected) model variant."""

    model: str
    quantization: str
    format: str = FORMAT

    @property
    def name(self) -> str:
        return export_dirname(self.model, self.format, self.quantization)

    def folder(self, exports_dir: str | Path) -> Path:
        return Path(exports_dir) / self.name


def parse_name(name: str) -> Variant | None:
    """Return the variant called ``name``, or None when it is not one."""
    parsed = parse_export_dirname(name, formats=FORMATS)
    return Variant(parsed.model, parsed.quantization, parsed.format) if parsed else None


def ready_folder(exports_dir: str | Path, name: str) -> Path | None:
    """The complete export folder of variant ``name``, or None (unknown or not exported)."""
    variant = parse_name(name)
    if variant is None or not is_complete(folder := variant.folder(exports_dir)):
        return None
    return folder


def expected(models: tuple[str, ...], quantizations: tuple[str, ...]) -> list[Variant]:
    """The configured variants, model-major (the order of the selectors)."""
    return [Variant(m, q) for m in models for q in quantizations]


def discover(exports_dir: str | Path) -> list[Variant]:
    """Complete export folders a browser runs found in ``exports_dir`` (sorted by name)."""
    return [Variant(parsed.model, parsed.quantization, parsed.format)
            for parsed, _ in list_exports(Path(exports_dir), formats=FORMATS)]


def offered(exports_dir: str | Path, models: tuple[str, ...],
            quantizations: tuple[str, ...]) -> list[Variant]:
    """Configured variants first (exported or not), then extra complete exports."""
    wanted = expected(models, quantizations)
    return wanted + [v for v in discover(exports_dir) if v not in wanted]


def _weight_files(folder: Path) -> list[Path]:
    """Shard files named by ``model.json``'s weights manifest, in manifest order."""
    manifest = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    return [folder / p for group in manifest.get("weightsManifest", []) for p in group["paths"]]


# path -> (size and mtime of each file, digest): a re-exported folder gets a new identity.
_hash_cache: dict[str, tuple[tuple[tuple[int, int], ...], str]] = {}
_hash_lock = threading.Lock()


def _cached_sha256(key: str, files: list[Path]) -> str:
    """sha256 over ``files`` in order, recomputed only when a size or mtime changed."""
    stats = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    with _hash_lock:
        cached = _hash_cache.get(key)
    if cached and cached[0] == stats:
        return cached[1]
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    with _hash_lock:
        _hash_cache[key] = (stats, digest.hexdigest())
    return digest.hexdigest()


def artifact_sha256(folder: Path) -> str:
    """sha256 identifying the exact artifact: model.json, then every shard in manifest order
    (TF.js), else the model file of the folder's format (``model.tflite``, ``model.onnx``)."""
    parsed = parse_export_dirname(folder.name, formats=FORMATS)
    fmt = parsed.format if parsed else FORMAT
    if fmt == "tfjs":
        return _cached_sha256(f"artifact:{folder}", [folder / MODEL_FILE, *_weight_files(folder)])
    return _cached_sha256(f"artifact:{folder}", [folder / MODEL_FILES[fmt]])


def current_weights(model: str) -> str | None:
    """sha256 of the trained weights ``model`` names now (None: not a trained detector).

    The same digest as ``source_weights_sha256`` in an export's provenance (the weights
    file's bytes), cached by size and mtime so the listing does not rehash megabytes.
    """
    from sdk.models.io import WEIGHTS_FILE, ModelNotFoundError, resolve_model_dir

    try:
        weights = resolve_model_dir(model) / WEIGHTS_FILE
        return _cached_sha256(f"weights:{weights}", [weights])
    except (ModelNotFoundError, OSError):
        return None


def is_stale(folder: Path, model: str) -> bool:
    """True when ``folder`` was exported from other weights than ``model`` names now
    (e.g. the bundled weights were retrained since the last ``make demo``)."""
    recorded = provenance(folder).get("source_weights_sha256")
    # Nothing recorded (a custom export) or no weights here: nothing to compare.
    return recorded is not None and current_weights(model) not in (None, recorded)


def describe(folder: Path) -> dict[str, Any]:
    """Identity, input facts and accuracy of a complete variant folder, for the listing.

    ``map`` is the mAP its detector.json records (``map_basis``: measured on the artifact,
    or the source model's card value); the benchmark puts both into its report. ``title`` is
    the display name an imported model declares (``provenance.title``, e.g. "COCO (NanoDet)").
    """
    spec = json.loads((folder / SPEC_FILENAME).read_text(encoding="utf-8"))
    accuracy = variant_accuracy(folder)
    return {
        "sha256": artifact_sha256(folder),
        "input_size": spec.get("input", {}).get("size"),
        "labels": spec.get("labels", []),
        "bytes": sum(f.stat().st_size for f in folder.iterdir() if f.is_file()),
        "map": accuracy.map,
        "map_basis": accuracy.basis,
        "map_split": accuracy.split,
        "title": spec.get("provenance", {}).get("title"),
    }
