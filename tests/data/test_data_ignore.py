"""Crowd (COCO) and difficult (VOC) objects: not training targets, crowd regions in evaluation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sdk.data import Dataset, Sample, load_dataset
from sdk.data.stats import summarize
from tests.data.builders import coco_official, voc_devkit


@pytest.mark.parametrize("build", [coco_official, voc_devkit])
def test_ignore_regions_stay_out_of_the_targets(tmp_path: Path, build) -> None:
    ds = load_dataset(build(tmp_path), "val")
    (sample,) = ds.samples
    # the training pipeline reads boxes/labels only: the crowd/difficult object is not there
    assert sample.labels.tolist() == [2] and sample.ignore_labels.tolist() == [1]
    np.testing.assert_allclose(sample.ignore_boxes, [[40, 44, 60, 60]])
    assert sample.ignore_boxes.flags.writeable is False
    stats = summarize(ds)
    assert (stats.objects, stats.ignored, stats.per_class["dog"]) == (1, 1, 0)


def test_fingerprint_sees_ignore_regions_only_when_present(tmp_path: Path) -> None:
    ds = load_dataset(coco_official(tmp_path), "val")
    (sample,) = ds.samples
    without = replace(ds, samples=(replace(sample, ignore_boxes=None, ignore_labels=None),))
    plain = replace(ds, samples=(Sample(sample.image_path, sample.width, sample.height,
                                        sample.boxes, sample.labels, sample.image_id),))
    assert ds.fingerprint() != without.fingerprint() == plain.fingerprint()


def test_sample_rejects_mismatched_ignore_arrays() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Sample(Path("/x.png"), 10, 10, [], [], 0, [[1, 1, 5, 5]], [])


def _eval(ds: Dataset, boxes: list, scores: list, classes: list) -> dict[str, float]:
    from sdk.evaluate import ImageDetections, coco_metrics

    image_id = ds.samples[0].image_id
    return coco_metrics(ds, [ImageDetections(image_id, np.array(boxes, np.float32),
                                             np.array(scores), np.array(classes))])


@pytest.mark.parametrize("build", [coco_official, voc_devkit])
def test_detections_on_ignore_regions_are_not_false_positives(tmp_path: Path, build) -> None:
    pytest.importorskip("pycocotools")
    ds = load_dataset(build(tmp_path), "val")
    (sample,) = ds.samples
    # add a real dog, so the dog class has a target and its AP is measured
    emu, dog, crowd_dog = [8.75, 8, 56, 40.5], [2, 2, 20, 20], [40, 44, 60, 60]
    sample = replace(sample, boxes=[emu, dog], labels=[2, 1])
    ds = replace(ds, samples=(sample,))
    # the most confident detection lies on the ignore region
    detections = ([crowd_dog, dog, emu], [0.95, 0.9, 0.8], [1, 1, 2])
    assert _eval(ds, *detections)["mAP"] == pytest.approx(1.0)
    # without the ignore region the same detection is a false positive ranked first
    plain = replace(ds, samples=(replace(sample, ignore_boxes=None, ignore_labels=None),))
    assert _eval(plain, *detections)["mAP"] < 0.9
