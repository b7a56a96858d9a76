"""The probe images every artifact is compared on, and the source's detections on them.

The probes are :func:`sdk.probes.synthetic_probes`, the one set shared with ``sdk bench``
and the browser benchmark (with ``--data`` too: the dataset gives ΔmAP, not the probes).
The fp32 source's detections on them are written beside each export as ``reference.json``
(:func:`sdk.exports.reference_document`), so every runtime can be checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sdk.exports import reference_document
from sdk.pipeline import as_dicts, detect_image
from sdk.preprocess import preprocess
from sdk.probes import (
    DEFAULT_PROBES,
    DEFAULT_SEED,
    pixels_sha256,
    probe_description,
    synthetic_probes,
)
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.source import ExportSource


@dataclass(frozen=True)
class ProbeSet:
    """Images (HxWx3 uint8 RGB) and their description recorded in the parity report."""

    images: tuple[np.ndarray, ...]
    description: str

    def inputs(self, spec: DetectorSpec) -> np.ndarray:
        """The images preprocessed as ``spec`` says, as one batch."""
        return np.concatenate([preprocess(image, spec.input)[0] for image in self.images])


def probe_set(count: int = DEFAULT_PROBES, seed: int = DEFAULT_SEED) -> ProbeSet:
    """The synthetic probe scenes of :mod:`sdk.probes` (the default set: 8 scenes, seed 0)."""
    return ProbeSet(synthetic_probes(count, seed), probe_description(count, seed))


def reference_json(source: ExportSource, probes: ProbeSet) -> dict[str, Any]:
    """``reference.json``: the source model's detections on ``probes`` (once per source)."""
    return source.memo(f"reference.json:{probes.description}",
                       lambda: _reference_document(source, probes))


def _reference_document(source: ExportSource, probes: ProbeSet) -> dict[str, Any]:
    spec = source.spec
    detections = [as_dicts(detect_image(source.reference, image, spec.input, spec.nms),
                           spec.labels) for image in probes.images]
    described = {"description": probes.description,
                 "sha256": [pixels_sha256(image) for image in probes.images]}
    return reference_document(spec.labels, described, detections,
                              source=f"{source.origin} {source.name}")
