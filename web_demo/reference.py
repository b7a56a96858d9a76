"""The fp32 reference detections an export carries, for the benchmark's accuracy fingerprint.

``sdk export`` writes ``reference.json`` into every export folder: the fp32 source model's
detections on :func:`sdk.probes.synthetic_probes` (see :func:`sdk.exports.reference_document`).
The server only reads it, and uses it only when it was computed on the very pixels it serves
as probe images (:mod:`web_demo.probes`); otherwise the benchmark still runs, but reports its
accuracy as unchecked and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk.exports import REFERENCE_FILE, reference_detections
from sdk.probes import probe_description
from web_demo.probes import probe_sha256s


@dataclass(frozen=True)
class Reference:
    """A usable ``reference.json``: the document, or why there is none."""

    data: dict[str, Any] | None
    problem: str = ""  # empty when data is usable


def load(folder: Path) -> Reference:
    """``folder``'s reference detections if they fit this server's probe images."""
    data = reference_detections(folder)
    if data is None:
        return Reference(None, f"{folder.name} has no readable {REFERENCE_FILE} (exported by "
                               "an older sdk, or by hand)")
    probes = data.get("probes") if isinstance(data.get("probes"), dict) else {}
    detections = data.get("detections")
    if list(probes.get("sha256") or []) != list(probe_sha256s()):
        return Reference(None, f"{folder.name}/{REFERENCE_FILE} was computed on other probe "
                               f"images ({probes.get('description', 'unknown')}) than the "
                               f"ones served here ({probe_description()})")
    if not isinstance(detections, list) or len(detections) != len(probe_sha256s()):
        return Reference(None, f"{folder.name}/{REFERENCE_FILE}: 'detections' must hold one "
                               "list per probe image")
    return Reference(data)
