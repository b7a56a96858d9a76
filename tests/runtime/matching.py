"""Compare two detection lists: the cross-runtime parity criterion of issue 4."""

from __future__ import annotations

from collections.abc import Sequence

Box = Sequence[float]  # x1, y1, x2, y2


def iou(a: Box, b: Box) -> float:
    """IoU of two pixel xyxy boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def parity_problems(reference: Sequence[tuple[str, float, Box]],
                    candidate: Sequence[tuple[str, float, Box]],
                    min_iou: float = 0.9, max_score_diff: float = 0.02) -> list[str]:
    """Detections (label, score, box) of either list without a partner in the other.

    A partner has the same label, IoU >= ``min_iou`` and a score within ``max_score_diff``;
    each detection is matched at most once. An empty result means parity.
    """
    problems = []
    for name, mine, theirs in (("reference", reference, candidate),
                               ("candidate", candidate, reference)):
        free = list(theirs)
        for label, score, box in mine:
            partner = next((t for t in free if t[0] == label and iou(t[2], box) >= min_iou
                            and abs(t[1] - score) <= max_score_diff), None)
            if partner is None:
                problems.append(f"{name} {label} {score:.4f} {[round(v, 1) for v in box]} "
                                f"has no match")
            else:
                free.remove(partner)
    return problems
