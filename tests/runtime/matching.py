"""Compare two detection lists: the cross-runtime parity criterion (stricter than the gate's)."""

from __future__ import annotations

from collections.abc import Sequence

from sdk.boxes import greedy_match

Box = Sequence[float]  # x1, y1, x2, y2
Triple = tuple[str, float, Box]  # label, score, box


def _unpartnered(mine: Sequence[Triple], theirs: Sequence[Triple], min_iou: float,
                 max_score_diff: float) -> list[Triple]:
    """Detections of ``mine`` whose best same-label overlap in ``theirs`` (each used once,
    IoU >= ``min_iou``) is missing or differs in score by more than ``max_score_diff``."""
    matches = greedy_match([t[2] for t in mine], [t[0] for t in mine],
                           [t[2] for t in theirs], [t[0] for t in theirs], min_iou)
    partnered = {m.reference for m in matches
                 if abs(mine[m.reference][1] - theirs[m.candidate][1]) <= max_score_diff}
    return [t for i, t in enumerate(mine) if i not in partnered]


def parity_problems(reference: Sequence[Triple], candidate: Sequence[Triple],
                    min_iou: float = 0.9, max_score_diff: float = 0.02) -> list[str]:
    """Detections (label, score, box) of either list without a partner in the other.

    A partner has the same label, IoU >= ``min_iou`` and a score within ``max_score_diff``;
    each detection is matched at most once, in both directions. An empty result means parity.
    """
    return [f"{name} {label} {score:.4f} {[round(v, 1) for v in box]} has no match"
            for name, mine, theirs in (("reference", reference, candidate),
                                       ("candidate", candidate, reference))
            for label, score, box in _unpartnered(mine, theirs, min_iou, max_score_diff)]
