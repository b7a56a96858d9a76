"""What an export folder is: its name, when it is complete, and the files beside the model.

Written by the exporters (:mod:`exporters.export`), read by the web demo, ``sdk bench``,
and the benchmarks: this module is the one place that spells the folder name and the
side files, so none of them guesses.

An export folder ``<model>-<format>-<quantization>/`` appears by an atomic rename only
when the export succeeded; it holds the model, ``detector.json``, ``parity.json``,
``reference.json`` (the fp32 source's detections on the probe images,
:mod:`sdk.probes`) and a README.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk.spec import SPEC_FILENAME

PARITY_FILE = "parity.json"
REFERENCE_FILE = "reference.json"
REFERENCE_VERSION = 1
# Same character set as the collector's identifiers: safe in URLs, paths and reports.
_PART = r"[a-z0-9][a-z0-9_.+]*"
_NAME = re.compile(rf"^(?P<model>[a-z0-9][a-z0-9_.+-]*)-(?P<format>{_PART})-(?P<quant>{_PART})$")


@dataclass(frozen=True)
class ExportName:
    """The three parts of an export folder's name."""

    model: str
    format: str
    quantization: str

    @property
    def name(self) -> str:
        return export_dirname(self.model, self.format, self.quantization)


def export_dirname(model: str, fmt: str, quantization: str) -> str:
    """The folder name of an export: ``<model>-<format>-<quantization>``."""
    return f"{model}-{fmt}-{quantization}"


def parse_export_dirname(name: str, formats: Sequence[str] | None = None) -> ExportName | None:
    """Split a folder name into model, format and quantization (None if it is not one).

    The model part may contain dashes; the format is the second-to-last part. With
    ``formats``, only names of those formats are accepted.
    """
    match = _NAME.match(name)
    if match is None or (formats is not None and match["format"] not in formats):
        return None
    return ExportName(match["model"], match["format"], match["quant"])


def is_complete(folder: Path) -> bool:
    """True for a finished export: a visible folder with its ``detector.json``.

    Exports are built in hidden siblings (``.name.tmp-*``) and renamed into place, so a
    visible folder with a ``detector.json`` is never half-written.
    """
    return (folder.is_dir() and not folder.name.startswith(".")
            and (folder / SPEC_FILENAME).is_file())


def list_exports(root: Path, formats: Sequence[str] | None = None,
                 ) -> Iterator[tuple[ExportName, Path]]:
    """Complete export folders under ``root`` whose names parse, sorted by name."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        parsed = parse_export_dirname(folder.name, formats)
        if parsed is not None and is_complete(folder):
            yield parsed, folder


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing or not a JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def provenance(folder: Path) -> dict[str, Any]:
    """The ``provenance`` section of the folder's ``detector.json`` ({} if unreadable)."""
    spec = read_json(folder / SPEC_FILENAME) or {}
    value = spec.get("provenance")
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class VariantAccuracy:
    """The mAP an export records for itself (``metrics.accuracy`` of its detector.json).

    Attributes:
        map: mAP@[.5:.95] in 0..1, None when unknown.
        basis: ``artifact`` (measured on this artifact at export) or ``source`` (the
            source model's card value), None when unknown.
        split: Which images the value comes from.
    """

    map: float | None = None
    basis: str | None = None
    split: str | None = None


def variant_accuracy(folder: Path) -> VariantAccuracy:
    """The accuracy ``detector.json`` in ``folder`` records (all None when it has none)."""
    spec = read_json(folder / SPEC_FILENAME) or {}
    section = (spec.get("metrics") or {}).get("accuracy")
    if not isinstance(section, dict) or not isinstance(section.get("mAP"), int | float):
        return VariantAccuracy()
    basis = section.get("basis") if section.get("basis") in ("artifact", "source") else None
    detail = section.get(basis) if basis else None
    split = detail.get("split") if isinstance(detail, dict) else None
    return VariantAccuracy(float(section["mAP"]), basis, split)


def reference_detections(folder: Path) -> dict[str, Any] | None:
    """The folder's ``reference.json`` (see :func:`reference_document`), or None."""
    data = read_json(folder / REFERENCE_FILE)
    if data is None or data.get("version") != REFERENCE_VERSION:
        return None
    return data


def reference_document(labels: Sequence[str], probes: dict[str, Any],
                       detections: Sequence[Sequence[dict[str, Any]]],
                       source: str) -> dict[str, Any]:
    """The ``reference.json`` an exporter writes.

    Args:
        labels: The detector's labels.
        probes: ``{"description": ..., "sha256": [per-image pixel sha256]}``
            (:func:`sdk.probes.pixels_sha256`).
        detections: Per probe image, ``{"box": [x1, y1, x2, y2] pixels, "label", "score"}``
            of the fp32 source model with the spec's NMS defaults.
        source: What produced them (e.g. ``"keras fp32 fast"``).
    """
    return {"version": REFERENCE_VERSION, "source": source, "labels": list(labels),
            "probes": probes, "detections": [list(d) for d in detections]}
