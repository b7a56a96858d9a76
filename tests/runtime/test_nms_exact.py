"""The vectorized NMS is exact greedy NMS, also on images with many candidate boxes.

Its cost is measured in ``benchmarks/postprocess_overhead.py`` (BENCHMARKS.md), not here.
"""

from __future__ import annotations

import numpy as np
import pytest

from sdk.postprocess import greedy_nms, postprocess
from sdk.spec import NmsSpec
from tests.js.make_golden import clustered_boxes

# Fast at 320 px has 3234 anchors; LiteRT runs it in 1.3-2.6 ms on a 2-vCPU EPYC
# (BENCHMARKS.md, runtime overhead).
ANCHORS = 3234


def _loop_nms(boxes: np.ndarray, classes: np.ndarray | None, thr: float, max_out: int) -> list:
    """Textbook greedy NMS, one box at a time: the definition the fast version must match."""
    b = boxes.astype(np.float64)
    keep: list[int] = []
    for j in range(len(b)):
        for i in keep:
            if classes is not None and classes[i] != classes[j]:
                continue
            w = min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0])
            h = min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1])
            inter = max(w, 0.0) * max(h, 0.0)
            area = [max(r[2] - r[0], 0.0) * max(r[3] - r[1], 0.0) for r in (b[i], b[j])]
            if inter / max(area[0] + area[1] - inter, 1e-12) > thr:
                break
        else:
            keep.append(j)
            if len(keep) == max_out:
                break
    return keep


def _boxes(rng: np.random.Generator, n: int, max_side: float) -> np.ndarray:
    centre = rng.uniform(0, 1, (n, 2))
    half = rng.uniform(0.005, max_side, (n, 2)) / 2
    return np.concatenate([centre - half, centre + half], 1).astype(np.float32)


@pytest.mark.parametrize("seed", range(40))
def test_blocked_nms_equals_textbook_greedy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 300))
    boxes = _boxes(rng, n, float(rng.choice([0.05, 0.3, 0.9])))
    classes = rng.integers(0, 3, n) if seed % 2 else None
    thr, max_out = float(rng.uniform(0, 0.9)), int(rng.integers(1, 250))
    assert greedy_nms(boxes, thr, max_out, classes).tolist() == _loop_nms(boxes, classes, thr,
                                                                           max_out)


def _dense_scene(rng: np.random.Generator, classes: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Every anchor a candidate: 60 objects with 50 jittered boxes each, plus clutter."""
    boxes = clustered_boxes(rng, ANCHORS, 60, (0.05, 0.95), (0.02, 0.3), 0.01, (0.8, 1.2))
    return boxes, rng.uniform(0.3, 1.0, (ANCHORS, classes)).astype(np.float32)


@pytest.mark.parametrize("scene", ["dense", "scattered"])
def test_postprocess_caps_detections_with_many_candidates(scene):
    rng = np.random.default_rng(0)
    if scene == "dense":
        boxes, scores = _dense_scene(rng)
    else:  # 1000 small disjoint boxes: the most boxes survive, the worst case for NMS
        boxes, scores = _boxes(rng, ANCHORS, 0.04), rng.uniform(0.3, 1, (ANCHORS, 6))
    spec = NmsSpec(score_threshold=0.25)  # all 3234 x 6 entries pass; top 1000 go to NMS
    out = postprocess(boxes, scores.astype(np.float32), spec)
    assert len(out.scores) == spec.max_detections
    assert np.all(np.diff(out.scores) <= 0)
