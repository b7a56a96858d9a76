"""The TF.js model variants the demo offers: names, folders, readiness and identity.

A variant is one export folder ``<EXPORTS_DIR>/<model>-tfjs-<quantization>/`` holding
``model.json``, its weight shards and ``detector.json``. Besides the configured
models x quantizations, any other complete ``*-tfjs-*`` folder (a custom export) is offered.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "tfjs"
MODEL_FILE = "model.json"
SPEC_FILE = "detector.json"
# Same character set as the collector's identifiers: safe in URLs, paths and reports.
_NAME = re.compile(r"^(?P<model>[a-z0-9][a-z0-9_.+-]*)-tfjs-(?P<quant>[a-z0-9][a-z0-9_.+]*)$")


@dataclass(frozen=True)
class Variant:
    """One servable (or expected) model variant."""

    model: str
    quantization: str

    @property
    def name(self) -> str:
        return f"{self.model}-{FORMAT}-{self.quantization}"

    def folder(self, exports_dir: str | Path) -> Path:
        return Path(exports_dir) / self.name


def parse_name(name: str) -> Variant | None:
    """Return the variant called ``name``, or None when it is not a variant name."""
    match = _NAME.match(name)
    return Variant(match["model"], match["quant"]) if match else None


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a TF.js graph model and its ``detector.json``."""
    return (folder / MODEL_FILE).is_file() and (folder / SPEC_FILE).is_file()


def source_weights(folder: Path) -> str | None:
    """sha256 of the trained weights an export folder was made from (its provenance)."""
    try:
        spec = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    provenance = spec.get("provenance") if isinstance(spec, dict) else None
    return provenance.get("source_weights_sha256") if isinstance(provenance, dict) else None


def expected(models: tuple[str, ...], quantizations: tuple[str, ...]) -> list[Variant]:
    """The configured variants, model-major (the order of the selectors)."""
    return [Variant(m, q) for m in models for q in quantizations]


def discover(exports_dir: str | Path) -> list[Variant]:
    """Complete variant folders found in ``exports_dir`` (sorted by name)."""
    root = Path(exports_dir)
    if not root.is_dir():
        return []
    found = (parse_name(p.name) for p in root.iterdir() if p.is_dir())
    return sorted((v for v in found if v and is_complete(v.folder(root))), key=lambda v: v.name)


def offered(exports_dir: str | Path, models: tuple[str, ...],
            quantizations: tuple[str, ...]) -> list[Variant]:
    """Configured variants first (ready or not), then extra complete exports."""
    wanted = expected(models, quantizations)
    return wanted + [v for v in discover(exports_dir) if v not in wanted]


def _weight_files(folder: Path) -> list[Path]:
    """Shard files named by ``model.json``'s weights manifest, in manifest order."""
    manifest = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    return [folder / p for group in manifest.get("weightsManifest", []) for p in group["paths"]]


# folder -> (size and mtime of each file, digest): a rebuilt export gets a new identity.
_hash_cache: dict[str, tuple[tuple[tuple[int, int], ...], str]] = {}
_hash_lock = threading.Lock()


def artifact_sha256(folder: Path) -> str:
    """sha256 identifying the exact artifact: model.json, then every shard in manifest order."""
    files = [folder / MODEL_FILE, *_weight_files(folder)]
    stats = tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    with _hash_lock:
        cached = _hash_cache.get(str(folder))
    if cached and cached[0] == stats:
        return cached[1]
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    with _hash_lock:
        _hash_cache[str(folder)] = (stats, digest.hexdigest())
    return digest.hexdigest()


def describe(folder: Path) -> dict[str, Any]:
    """Identity and input facts of a complete variant folder, for the model listing."""
    spec = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
    return {
        "sha256": artifact_sha256(folder),
        "input_size": spec.get("input", {}).get("size"),
        "labels": spec.get("labels", []),
        "bytes": sum(f.stat().st_size for f in folder.iterdir() if f.is_file()),
    }
