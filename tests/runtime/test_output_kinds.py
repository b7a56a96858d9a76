"""The output kinds of ``detector.json`` (``sdk/output_kinds.py``): raw outputs built in numpy,
decoded detections checked by hand, and the load-time shape checks of each kind."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.output_kinds import decode, detections_to_raw, yolo_to_canonical
from sdk.pipeline import outputs_to_pixels, to_pixels
from sdk.preprocess import fit
from sdk.runtime.contract import RuntimeLoadError, check_outputs
from sdk.spec import DetectorSpec, NmsSpec

LABELS = ["person", "cup", "cat"]


def make_spec(outputs: dict, size=(100, 200), resize="stretch", **nms) -> DetectorSpec:
    return DetectorSpec.from_dict({"schema_version": 1, "labels": LABELS, "outputs": outputs,
                                   "input": {"size": list(size), "resize": resize},
                                   "nms": nms}, "test")


YOLO = {"kind": "yolo", "predictions": "output0", "box_units": "pixels"}
DETECTIONS = {"kind": "detections", "locations": "loc", "classes": "cls", "scores": "sc",
              "num_detections": "num"}


def yolo_rows() -> np.ndarray:
    """[N, 4+C] in pixels of a 200x100 (w x h) input: a cup, a weaker duplicate that NMS
    removes, a cat overlapping the cup (other class: kept), and a box below threshold."""
    return np.array([[100, 50, 40, 20, 0.1, 0.9, 0.0],    # cup: x 80..120, y 40..60
                     [101, 50, 40, 20, 0.0, 0.8, 0.1],    # duplicate cup
                     [100, 50, 40, 20, 0.0, 0.0, 0.6],    # cat on the same place
                     [20, 20, 10, 10, 0.2, 0.0, 0.0]],    # person, score 0.2 < 0.3
                    np.float32)


@pytest.mark.parametrize("layout", ["features_first", "anchors_first"])
def test_yolo_both_layouts_decode_to_the_same_detections(layout):
    spec = make_spec({**YOLO, "layout": layout})
    rows = yolo_rows()
    raw = (rows.T if layout == "features_first" else rows)[None]
    found = outputs_to_pixels([raw], spec, fit(200, 100, spec.input))
    assert found.classes.tolist() == [1, 2]
    np.testing.assert_allclose(found.scores, [0.9, 0.6], rtol=1e-6)
    np.testing.assert_allclose(found.boxes, [[80, 40, 120, 60]] * 2, atol=1e-4)


def test_yolo_units_pixels_and_normalized_agree():
    rows = yolo_rows()
    pixels = make_spec({**YOLO, "layout": "anchors_first"})
    normalized = make_spec({**YOLO, "layout": "anchors_first", "box_units": "normalized"})
    scaled = rows.copy()
    scaled[:, [0, 2]] /= 200
    scaled[:, [1, 3]] /= 100
    a, _ = yolo_to_canonical(rows[None], pixels.outputs, 3, pixels.input.size)
    b, scores = yolo_to_canonical(scaled[None], normalized.outputs, 3, normalized.input.size)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a[0], [0.4, 0.4, 0.6, 0.6], atol=1e-6)
    assert scores.shape == (4, 3) and scores[0, 1] == np.float32(0.9)


def test_yolo_letterbox_is_undone():
    """A 400x100 image in a 100x200 letterboxed input: scale 0.5, 25 px of padding above."""
    spec = make_spec({**YOLO, "layout": "anchors_first"}, resize="letterbox")
    found = outputs_to_pixels([yolo_rows()[None]], spec, fit(400, 100, spec.input))
    np.testing.assert_allclose(found.boxes[0], [160, 30, 240, 70], atol=1e-3)


def test_yolo_wrong_class_count_is_a_clear_error():
    spec = make_spec({**YOLO, "layout": "anchors_first"})
    with pytest.raises(ValueError, match=r"expected 4 \+ 3 labels"):
        yolo_to_canonical(np.zeros((1, 5, 9), np.float32), spec.outputs, 3, spec.input.size)


def detection_outputs() -> list[np.ndarray]:
    """Post-NMS outputs of 6 slots, 5 valid, ids 1-based (label_offset 1)."""
    locations = np.array([[0.1, 0.2, 0.5, 0.6],   # ymin, xmin, ymax, xmax
                          [0.0, 0.0, 1.0, 1.0],
                          [0.2, 0.2, 0.4, 0.4],
                          [0.3, 0.3, 0.6, 0.6],
                          [0.5, 0.5, 0.9, 0.9],
                          [0.1, 0.1, 0.2, 0.2]], np.float32)[None]
    classes = np.array([[2, 0, 2.9999, 4, 1, 1]], np.float32)  # 0: background, 4: beyond
    scores = np.array([[0.8, 0.95, 0.85, 0.9, 0.3, 0.99]], np.float32)
    return [locations, classes, scores, np.array([5], np.float32)]


def test_detections_map_labels_threshold_and_reorder_boxes():
    spec = make_spec({**DETECTIONS, "label_offset": 1})
    found = outputs_to_pixels(detection_outputs(), spec, fit(200, 100, spec.input))
    # Slot 1 is background (id 0), slot 3 is id 4 (no such label), slot 4 sits exactly on
    # the 0.3 threshold, slot 5 is beyond num_detections: two detections, best first.
    assert [LABELS[c] for c in found.classes] == ["cat", "cup"]
    np.testing.assert_allclose(found.scores, [0.85, 0.8])
    np.testing.assert_allclose(found.boxes, [[40, 20, 80, 40], [40, 10, 120, 50]], atol=1e-4)


def test_detections_ignore_iou_but_honour_overrides():
    spec = make_spec({**DETECTIONS, "label_offset": 1}, iou_threshold=0.0)
    raw = decode(detection_outputs(), spec.outputs, 3, spec.input.size, spec.nms)
    assert len(raw.scores) == 2  # overlapping boxes are not suppressed again
    top = detections_to_raw(*detection_outputs(), spec.outputs, 3, 0.1, 1)
    assert top.classes.tolist() == [2] and top.boxes.tolist() == [
        pytest.approx([0.2, 0.2, 0.4, 0.4])]
    none = detections_to_raw(*detection_outputs()[:3], np.array([0.0]), spec.outputs, 3, 0.1, 9)
    assert none.boxes.shape == (0, 4) and len(none.classes) == 0


def test_canonical_through_outputs_to_pixels_is_bit_exact():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 0.7, (200, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.05, 0.3, (200, 2))], 1).astype(np.float32)
    scores = rng.uniform(0, 1, (200, 3)).astype(np.float32)
    spec = make_spec({}, resize="letterbox")
    geometry = fit(333, 250, spec.input)
    a = to_pixels(boxes, scores, geometry, NmsSpec())
    b = outputs_to_pixels([boxes[None], scores[None]], spec, geometry)
    for x, y in zip((a.boxes, a.scores, a.classes), (b.boxes, b.scores, b.classes), strict=True):
        assert np.array_equal(x, y)


def test_load_time_shape_checks_per_kind():
    dets = make_spec(DETECTIONS)
    check_outputs("m", dets, [1, 10, 4], [1, 10], [1, 10], [1])
    with pytest.raises(RuntimeLoadError, match=r"output 'cls' has shape \[1, 10, 3\]"):
        check_outputs("m", dets, [1, 10, 4], [1, 10, 3], [1, 10], [1])
    with pytest.raises(RuntimeLoadError, match=r"reads 4 \['loc', 'cls', 'sc', 'num'\]"):
        check_outputs("m", dets, [1, 10, 4], [1, 10])
    yolo = make_spec(YOLO)
    check_outputs("m", yolo, [1, 7, 8400])
    check_outputs("m", yolo, [1, 7, -1])  # a dynamic box count passes
    with pytest.raises(RuntimeLoadError, match=r"expects \[1, 7, N\] \(\[1, 4\+C, N\] with C = 3"):
        check_outputs("m", yolo, [1, 8400, 7])
    rows = make_spec({**YOLO, "layout": "anchors_first", "num_anchors": 100})
    check_outputs("m", rows, [1, 100, 7])
    with pytest.raises(RuntimeLoadError, match="outputs.num_anchors says 100"):
        check_outputs("m", rows, [1, 99, 7])
