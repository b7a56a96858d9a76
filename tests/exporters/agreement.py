"""Do two detectors find the same objects? Judged like the parity gate judges an export."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import sdk
from exporters.parity import Budget, match_detections


def agreement(reference: sdk.Detector, candidate: sdk.Detector,
              images: Iterable[np.ndarray]) -> dict[str, float]:
    """Recall, precision, mean IoU and mean |score delta| of ``candidate``'s detections
    against ``reference``'s on ``images`` (same class, IoU >= 0.5, greedy by score)."""
    ious: list[float] = []
    deltas: list[float] = []
    found = made = 0
    for image in images:
        ref, got = reference.detect_arrays(image), candidate.detect_arrays(image)
        i, d = match_detections(ref, got)
        ious, deltas = ious + i, deltas + d
        found, made = found + len(ref.boxes), made + len(got.boxes)
    assert found > 0, "the reference finds nothing: the comparison would prove nothing"
    return {"recall": len(ious) / found, "precision": len(ious) / made if made else 0.0,
            "mean_iou": float(np.mean(ious)) if ious else 0.0,
            "mean_score_delta": float(np.mean(deltas)) if deltas else 0.0}


def misses(stats: dict[str, float], budget: Budget) -> list[str]:
    """What in ``stats`` is outside ``budget`` (empty: within it)."""
    out = [f"{k} {stats[k]:.3f} < {budget.min_match}" for k in ("recall", "precision")
           if stats[k] < budget.min_match]
    if stats["mean_iou"] < budget.min_iou:
        out.append(f"mean IoU {stats['mean_iou']:.3f} < {budget.min_iou}")
    if stats["mean_score_delta"] > budget.max_score_delta:
        out.append(f"mean score delta {stats['mean_score_delta']:.4f} > "
                   f"{budget.max_score_delta}")
    return out
