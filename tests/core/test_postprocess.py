"""Reference post-processing: threshold, class-aware NMS, top-k."""

from __future__ import annotations

import numpy as np

from sdk.postprocess import postprocess
from sdk.spec import NmsSpec


def test_class_aware_nms_keeps_overlapping_boxes_of_different_classes():
    boxes = np.array([[0, 0, .5, .5], [0.01, 0, .5, .5], [0, 0, .5, .5], [.6, .6, .9, .9]])
    scores = np.zeros((4, 2), np.float32)
    scores[0, 0], scores[1, 0], scores[2, 1], scores[3, 0] = 0.9, 0.8, 0.7, 0.2
    out = postprocess(boxes, scores, NmsSpec(iou_threshold=0.5, score_threshold=0.3))
    assert out.classes.tolist() == [0, 1]  # box 1 suppressed by box 0; box 3 below threshold
    np.testing.assert_allclose(out.scores, [0.9, 0.7])


def test_class_agnostic_suppresses_across_classes():
    boxes = np.array([[0, 0, .5, .5], [0, 0, .5, .5]])
    scores = np.array([[0.9, 0], [0, 0.8]], np.float32)
    out = postprocess(boxes, scores, NmsSpec(class_agnostic=True, score_threshold=0.1))
    assert len(out.scores) == 1


def test_max_detections_and_overrides():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 0.9, (500, 2))
    boxes = np.concatenate([xy, xy + 0.02], 1)
    scores = rng.uniform(0, 1, (500, 3)).astype(np.float32)
    out = postprocess(boxes, scores, NmsSpec(), score_threshold=0.5, max_detections=7)
    assert len(out.scores) == 7 and np.all(np.diff(out.scores) <= 0)
    assert out.scores.min() > 0.5


def test_nothing_above_threshold():
    out = postprocess(np.zeros((3, 4)), np.zeros((3, 2)), NmsSpec())
    assert out.boxes.shape == (0, 4) and len(out.classes) == 0
