"""COCO metrics against hand-computed values on a fixed hand-made case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sdk.data import Dataset, Sample
from sdk.evaluate import ImageDetections, coco_metrics


def _dataset() -> Dataset:
    # image 1: one large square (class 0); image 2: one small square (class 1, area 20x20)
    samples = (
        Sample(Path("/x/1.png"), 400, 300, np.array([[100, 100, 300, 300]], np.float32),
               np.array([0]), 1),
        Sample(Path("/x/2.png"), 400, 300, np.array([[10, 10, 30, 30]], np.float32),
               np.array([1]), 2),
    )
    return Dataset(("big", "small"), samples, Path("/x"), "test", "coco")


def _dets(box1, box2, score2=0.9) -> list[ImageDetections]:
    return [
        ImageDetections(1, np.array([box1], np.float32), np.array([0.9]), np.array([0])),
        ImageDetections(2, np.array([box2], np.float32), np.array([score2]), np.array([1])),
    ]


def test_perfect_predictions_score_one():
    m = coco_metrics(_dataset(), _dets([100, 100, 300, 300], [10, 10, 30, 30]))
    assert m["mAP"] == pytest.approx(1.0) and m["mAP50"] == pytest.approx(1.0)
    assert m["AP_small"] == pytest.approx(1.0) and m["AP_large"] == pytest.approx(1.0)
    assert m["AP_medium"] == 0.0  # pycocotools reports -1 (no objects); we clamp to 0
    assert (m["AP50_small"], m["AP50_medium"], m["AP50_large"]) == pytest.approx((1, 0, 1))


def test_iou_0_58_counts_for_two_of_ten_thresholds():
    # class 0 perfect; class 1 box cut so IoU = 0.58 -> matched at .50 and .55 only
    # IoU of [10,10,30,30] and [10,10,30,y2] is (y2 - 10) / 20 = 0.58 with y2 = 21.6
    m = coco_metrics(_dataset(), _dets([100, 100, 300, 300], [10, 10, 30, 21.6]))
    assert m["AP_small"] == pytest.approx(0.2, abs=1e-3)
    assert m["mAP"] == pytest.approx((1.0 + 0.2) / 2, abs=1e-3)
    assert m["mAP50"] == pytest.approx(1.0) and m["AP50_small"] == pytest.approx(1.0)


def test_missed_class_halves_map():
    m = coco_metrics(_dataset(), _dets([100, 100, 300, 300], [200, 200, 250, 250]))
    assert m["mAP"] == pytest.approx(0.5, abs=1e-3) and m["AP_small"] == 0.0
    assert m["AP50_small"] == 0.0 and m["AP50_large"] == pytest.approx(1.0)


def test_no_detections_is_zero():
    empty = [ImageDetections(i, np.zeros((0, 4)), np.zeros(0), np.zeros(0)) for i in (1, 2)]
    assert coco_metrics(_dataset(), empty)["mAP"] == 0.0
