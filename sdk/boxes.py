"""Box geometry shared by training, evaluation, parity checks and benchmarks.

One IoU and one greedy matcher for the whole project. The bit-exact IoU inside NMS
(:class:`sdk.postprocess` ``overlaps``) is kept separate on purpose: it must reproduce the
JavaScript port's float32 arithmetic operation for operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def iou_matrix(a: np.ndarray | Sequence[Sequence[float]],
               b: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Pairwise IoU of ``x1, y1, x2, y2`` boxes, ``[len(a), len(b)]`` float64.

    Boxes with no area have IoU 0 with everything (never a division by zero).
    """
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two ``x1, y1, x2, y2`` boxes."""
    return float(iou_matrix([a], [b])[0, 0])


@dataclass(frozen=True)
class Match:
    """One reference detection paired with one candidate."""

    reference: int  # index into the reference list
    candidate: int  # index into the candidate list
    iou: float


def greedy_match(ref_boxes: np.ndarray | Sequence[Sequence[float]],
                 ref_classes: Sequence[object],
                 cand_boxes: np.ndarray | Sequence[Sequence[float]],
                 cand_classes: Sequence[object],
                 min_iou: float,
                 ref_scores: Sequence[float] | None = None) -> list[Match]:
    """Pair each reference detection with the free same-class candidate it overlaps most.

    References are visited by descending ``ref_scores`` (in the given order without them);
    a pair needs IoU >= ``min_iou``; each candidate is used at most once. This is the one
    matching rule of the parity gate, the benchmark fingerprint and the runtime parity
    tests.
    """
    ious = iou_matrix(ref_boxes, cand_boxes)
    ref_classes, cand_classes = list(ref_classes), list(cand_classes)
    order = (range(len(ref_classes)) if ref_scores is None
             else np.argsort(-np.asarray(ref_scores, np.float64), kind="stable"))
    free = np.ones(len(cand_classes), bool)
    same = np.array([[r == c for c in cand_classes] for r in ref_classes], bool).reshape(
        len(ref_classes), len(cand_classes))
    matches = []
    for r in order:
        overlaps = np.where(free & same[r], ious[r], -1.0)
        if not overlaps.size:
            continue
        best = int(np.argmax(overlaps))
        if overlaps[best] >= min_iou:
            free[best] = False
            matches.append(Match(int(r), best, float(overlaps[best])))
    return matches
