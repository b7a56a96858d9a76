"""``sdk.load(...).detect(...)`` on real exports: inputs, outputs, timings, formats."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import sdk
from sdk.bench.protocol import STAGES
from sdk.runtime import Detection, RuntimeLoadError, StageTimings
from tests.runtime.matching import parity_problems

pytestmark = pytest.mark.slow


def _triples(detections: list[Detection]) -> list[tuple[str, float, tuple]]:
    return [(d.label, d.score, d.box) for d in detections]


def test_detect_returns_labelled_pixel_boxes_best_first(exports, busy_image):
    det = sdk.load(exports.tflite)
    image = np.asarray(Image.open(busy_image).convert("RGB"))
    found = det.detect(image)
    assert found, "the test model is tuned to detect something"
    h, w = image.shape[:2]
    for d in found:
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 <= x2 <= w and 0 <= y1 <= y2 <= h
        assert d.label == det.spec.labels[d.class_id]
        assert d.score > det.spec.nms.score_threshold
    assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    assert det.backend.name == "tflite/ai_edge_litert"


def test_path_pil_and_array_inputs_agree(exports, busy_image):
    det = sdk.load(exports.tflite)
    pil = Image.open(busy_image).convert("RGB")
    by_path = det.detect(busy_image)
    assert by_path and det.detect(pil) == by_path
    assert det.detect(np.asarray(pil)) == by_path
    assert det.detect(str(busy_image)) == by_path


def test_call_overrides_thresholds(exports, busy_image):
    det = sdk.load(exports.tflite)
    default = det.detect(busy_image)
    assert len(det.detect(busy_image, max_detections=2)) == 2
    strict = det.detect(busy_image, score_threshold=0.6)
    assert all(d.score > 0.6 for d in strict) and len(strict) < len(default)
    loose = det.detect(busy_image, score_threshold=0.1, iou_threshold=0.9)
    assert len(loose) > len(default)


def test_every_call_records_stage_timings(exports, probe_images):
    det = sdk.load(exports.tflite, num_threads=1)
    assert det.last_timings is None
    det.detect_arrays(probe_images[0])
    timings = det.last_timings
    assert isinstance(timings, StageTimings)
    assert tuple(timings.to_dict()) == STAGES  # same names as the device benchmark protocol
    assert all(v >= 0 for v in timings.to_dict().values()) and timings.inference > 0
    assert timings.total == pytest.approx(sum(timings.to_dict().values()))


def test_tflite_and_savedmodel_give_the_same_detections(exports, probe_images):
    lite, saved = sdk.load(exports.tflite), sdk.load(exports.savedmodel)
    assert saved.backend.name == "savedmodel/tensorflow"
    for image in probe_images:
        assert not parity_problems(_triples(saved.detect(image)), _triples(lite.detect(image)))


def test_load_accepts_folder_file_and_spec_path(exports, busy_image):
    reference = sdk.load(exports.tflite).detect(busy_image)
    for path in (exports.tflite / "model.tflite", exports.tflite / "detector.json"):
        assert sdk.load(path).detect(busy_image) == reference


@pytest.mark.parametrize("name", ["", "model.json"])
def test_tfjs_model_points_to_the_browser_runtime(exports, name):
    with pytest.raises(RuntimeLoadError, match="browser runtime"):
        sdk.load(exports.tfjs / name)


def test_repr_names_backend_and_input(exports):
    text = repr(sdk.load(exports.tflite))
    assert "tflite/ai_edge_litert" in text and "96x96 float32" in text


def test_detect_writes_the_input_in_place_bit_exact(exports, busy_image):
    """detect() preprocesses straight into LiteRT's input buffer (no set_tensor copy): the
    buffer holds exactly what preprocess() returns, the padding included after a frame of
    another shape, and the detections equal the copying pipeline's."""
    from sdk.pipeline import detect_image
    from sdk.preprocess import preprocess

    det = sdk.load(exports.tflite, num_threads=1)
    wide = np.asarray(Image.open(busy_image).convert("RGB"))
    tall = np.ascontiguousarray(wide.transpose(1, 0, 2)[:, ::2])  # letterboxed the other way
    for image in (wide, tall, wide):
        found = det.detect_arrays(image)
        expected, _ = preprocess(image, det.spec.input)
        written = det.backend.interp.get_tensor(det.backend.input["index"])
        assert written.tobytes() == expected.tobytes()
        reference = detect_image(det.backend.run, image, det.spec.input, det.spec.nms)
        assert found.boxes.tobytes() == reference.boxes.tobytes()
        assert found.scores.tobytes() == reference.scores.tobytes()
