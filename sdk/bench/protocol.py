"""The device benchmark protocol, version 1: the one definition the CLI and the browser follow.

A run has four timed phases, reported separately (docs/DESIGN.md section 6):

1. ``load_ms``: fetching/compiling the model until it can be invoked.
2. ``first_inference_ms``: the first call (shader compile, delegate preparation). It is never
   folded into the measured statistics.
3. Warm-up: runs until :data:`WARMUP` says stop (count **and** time bounded, capped).
4. Measured loop: runs until :data:`MEASURE` says stop; every run is timed on its own.

What is timed per run (``timed``): ``pre+infer+post`` by default, i.e. preprocess, inference,
readback and postprocess, where *readback* copies the outputs to the host and so forces the
device to finish (an un-synchronised GPU call returns before the work is done). Each stage is
also timed on its own and reported as its median. Probe images are real photos, not zeros,
because the NMS cost depends on how many boxes survive.

Percentiles use linear interpolation between closest ranks (numpy's default, "type 7"), so a
JavaScript port gives the same numbers. FPS is ``1000 / p50``.

The accuracy fingerprint compares detections on the probe images with the fp32 reference:
a reference box is recalled when a measured box of the same label overlaps it with IoU >= 0.5;
the run passes when the recalled fraction reaches :data:`ACCURACY_MIN_RECALL`.

Importing this module needs only the stdlib (the collector imports it; the fingerprint's
matcher, :func:`sdk.boxes.greedy_match`, loads numpy when called); :func:`protocol_dict` is
what ``GET /api/v1/protocol`` serves to the browser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

PROTOCOL_VERSION = 1

STAGES = ("preprocess", "inference", "readback", "postprocess")
# What a run's latency covers. The first is the default and the only one ranked side by side.
TIMED_MODES = ("pre+infer+post", "invoke", "camera-to-draw")
DEFAULT_TIMED = TIMED_MODES[0]

FPS_TOLERANCE = 0.05  # reported FPS may differ from 1000/p50 by 5 % (rounding, clock grain)
ACCURACY_IOU = 0.5
ACCURACY_MIN_RECALL = 0.9  # share of reference boxes a healthy backend must reproduce
ACCURACY_MIN_PROBES = 1


class ProtocolError(ValueError):
    """Input that the protocol cannot summarise (e.g. no latencies, negative times)."""


@dataclass(frozen=True)
class LoopBounds:
    """When a timed loop stops: both minimums met, or either cap reached.

    Attributes:
        min_runs: Runs required before the loop may stop on its own.
        min_seconds: Wall time required before the loop may stop on its own.
        max_runs: Hard cap on runs (a fast device stops here).
        max_seconds: Hard cap on wall time (a slow device stops here, maybe below min_runs).
    """

    min_runs: int
    min_seconds: float
    max_runs: int
    max_seconds: float

    def should_stop(self, runs: int, elapsed_s: float) -> bool:
        """Return True once the loop has done enough runs and time, or hit a cap."""
        if runs >= self.max_runs or elapsed_s >= self.max_seconds:
            return True
        return runs >= self.min_runs and elapsed_s >= self.min_seconds

    def is_complete(self, runs: int, elapsed_s: float) -> bool:
        """Return True when a finished loop of ``runs`` in ``elapsed_s`` obeyed these bounds."""
        return runs >= 1 and self.should_stop(runs, elapsed_s)


WARMUP = LoopBounds(min_runs=1, min_seconds=0.5, max_runs=50, max_seconds=5.0)
MEASURE = LoopBounds(min_runs=50, min_seconds=2.0, max_runs=500, max_seconds=20.0)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0..100) of sorted values, linear interpolation."""
    if not sorted_values:
        raise ProtocolError("percentile of an empty sequence")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(latencies_ms: Iterable[float]) -> dict[str, float]:
    """Summarise per-run latencies (ms) as p50, p90, p99, min, max, mean and count.

    Raises:
        ProtocolError: When there is no latency or one is negative or not finite.
    """
    values = sorted(float(v) for v in latencies_ms)
    if not values:
        raise ProtocolError("no latencies to summarise")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ProtocolError("latencies must be finite and non-negative")
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "min": values[0],
        "max": values[-1],
        "mean": math.fsum(values) / len(values),
        "count": len(values),
    }


def fps_from_p50(p50_ms: float) -> float:
    """Return frames per second from the median latency (0 for a zero latency)."""
    return 1000.0 / p50_ms if p50_ms > 0 else 0.0


def fps_consistent(fps: float, p50_ms: float, tolerance: float = FPS_TOLERANCE) -> bool:
    """Return True when a reported FPS matches ``1000 / p50`` within ``tolerance``."""
    expected = fps_from_p50(p50_ms)
    if expected == 0.0:
        return fps == 0.0
    return abs(fps - expected) <= tolerance * expected


@dataclass(frozen=True)
class FingerprintResult:
    """Outcome of comparing measured detections with the reference on the probe images."""

    probe_images: int
    reference_boxes: int
    matched_fraction: float
    max_score_delta: float
    passed: bool


def _match_image(
    reference: Sequence[Mapping[str, Any]], measured: Sequence[Mapping[str, Any]], iou_min: float
) -> list[float]:
    """Greedily match reference boxes (highest score first); return matched score deltas."""
    from sdk.boxes import greedy_match  # numpy: kept out of this module's import (see above)

    def score(det: Mapping[str, Any]) -> float:
        return float(det.get("score", 0.0))

    matches = greedy_match([d["box"] for d in reference], [d["label"] for d in reference],
                           [d["box"] for d in measured], [d["label"] for d in measured],
                           iou_min, ref_scores=[score(d) for d in reference])
    return [abs(score(reference[m.reference]) - score(measured[m.candidate])) for m in matches]


def compare_detections(
    reference: Sequence[Sequence[Mapping[str, Any]]],
    measured: Sequence[Sequence[Mapping[str, Any]]],
    iou_min: float = ACCURACY_IOU,
    min_recall: float = ACCURACY_MIN_RECALL,
) -> FingerprintResult:
    """Compare per-image detections ``{"box", "label", "score"}`` with the fp32 reference.

    Args:
        reference: For each probe image, the reference detections.
        measured: For each probe image (same order), the detections of the run under test.
        iou_min: Overlap needed for a measured box to recall a reference box.
        min_recall: Fraction of reference boxes that must be recalled to pass.

    Raises:
        ProtocolError: When the two lists do not cover the same number of images.
    """
    if len(reference) != len(measured):
        raise ProtocolError(f"{len(reference)} reference images but {len(measured)} measured")
    total = sum(len(dets) for dets in reference)
    deltas = [
        d
        for ref, got in zip(reference, measured, strict=True)
        for d in _match_image(ref, got, iou_min)
    ]
    # No reference box at all: nothing can be missed, so the fingerprint is vacuously intact.
    fraction = len(deltas) / total if total else 1.0
    return FingerprintResult(
        probe_images=len(reference),
        reference_boxes=total,
        matched_fraction=fraction,
        max_score_delta=max(deltas, default=0.0),
        passed=len(reference) >= ACCURACY_MIN_PROBES and fraction >= min_recall,
    )


def protocol_dict() -> dict[str, Any]:
    """Return the protocol constants as a JSON-serialisable dict (served to the browser)."""
    return {
        "version": PROTOCOL_VERSION,
        "warmup": asdict(WARMUP),
        "measure": asdict(MEASURE),
        "stages": list(STAGES),
        "timed_modes": list(TIMED_MODES),
        "default_timed": DEFAULT_TIMED,
        "ranked_timed": DEFAULT_TIMED,
        "percentile_method": "linear interpolation between closest ranks (numpy default)",
        "fps": "1000 / p50",
        "fps_tolerance": FPS_TOLERANCE,
        "accuracy": {
            "iou": ACCURACY_IOU,
            "min_recall": ACCURACY_MIN_RECALL,
            "min_probe_images": ACCURACY_MIN_PROBES,
            "match": "same label and IoU >= iou, greedy by reference score",
        },
        "invalid_if_page_hidden": True,
    }
