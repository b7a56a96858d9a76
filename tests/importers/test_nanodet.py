"""The real NanoDet-g-416 (COCO) imported by `make nanodet`, checked on real photos.

* An independent numpy port of NanoDet's decoding (written from the upstream code, not
  calling :mod:`importers`), run on the raw outputs of the TF.js graph (loaded here by its
  own few lines), agrees with the imported SavedModel's canonical boxes and scores.
* On photos that ship with scikit-image, the imported model finds the expected COCO class,
  through ``sdk.load`` (SavedModel engine) and through a TFLite fp32 export.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.importers.photos import EXPECTED, photo

tf = pytest.importorskip("tensorflow")

# Upstream NanoDet (config/legacy_v0.x_configs/nanodet-g.yml): BGR order, these statistics.
BGR_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
BGR_STD = np.array([57.375, 57.12, 58.395], np.float32)
STRIDES, REG_MAX, SIZE = (8, 16, 32), 10, 416


def raw_graph(model_json: Path):
    """The TF.js graph as a TF function: NCHW BGR normalized input -> its six outputs
    (cls 8/16/32 already sigmoid, then reg 8/16/32), independent of importers.sources."""
    import os

    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    from exporters.formats.tfjs.format import import_converter

    import_converter()
    from google.protobuf import json_format
    from tensorflowjs import read_weights

    model = json.loads(model_json.read_text())
    graph_def = json_format.ParseDict(model["modelTopology"], tf.compat.v1.GraphDef(),
                                      ignore_unknown_fields=True)
    weights = {w["name"]: w["data"] for w in read_weights.read_weights(
        model["weightsManifest"], str(model_json.parent), flatten=True)}
    for node in graph_def.node:
        if node.name in weights:
            dtype = tf.as_dtype(node.attr["dtype"].type)
            node.attr["value"].tensor.CopyFrom(
                tf.make_tensor_proto(weights[node.name].astype(dtype.as_numpy_dtype)))
    fn = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""),
                                    [])
    names = [f"Identity{s}:0" for s in ("", "_1", "_2", "_3", "_4", "_5")]
    return fn.prune(fn.graph.get_tensor_by_name("input_1:0"),
                    [fn.graph.get_tensor_by_name(n) for n in names])


def numpy_decode(cls_levels, reg_levels) -> tuple[np.ndarray, np.ndarray]:
    """NanoDet's decoding in numpy, after RangiLyu/nanodet gfl_head.py ``get_bboxes``:
    centres ``(j + 0.5) * stride`` (``get_single_level_center_point``), ``Integral``: softmax
    over reg_max + 1 bins and the expectation over 0..reg_max, times the stride;
    ``distance2bbox`` clamped to the input. Returns normalized xyxy boxes and scores."""
    boxes = []
    for stride, reg in zip(STRIDES, reg_levels, strict=True):
        cells = SIZE // stride
        y, x = np.meshgrid((np.arange(cells) + 0.5) * stride, (np.arange(cells) + 0.5) * stride,
                           indexing="ij")
        logits = reg[0].astype(np.float64).reshape(-1, 4, REG_MAX + 1)
        prob = np.exp(logits - logits.max(-1, keepdims=True))
        prob /= prob.sum(-1, keepdims=True)
        dist = (prob * np.arange(REG_MAX + 1)).sum(-1) * stride  # left, top, right, bottom
        cx, cy = x.ravel(), y.ravel()
        boxes.append(np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2],
                               cy + dist[:, 3]], axis=1).clip(0, SIZE))
    scores = np.concatenate([c[0] for c in cls_levels])
    return np.concatenate(boxes) / SIZE, scores


def test_independent_numpy_decoding_agrees_with_the_imported_graph(nanodet, nanodet_source):
    from sdk.preprocess import preprocess, resize_to_input
    from sdk.runtime.savedmodel import SavedModelBackend
    from sdk.spec import DetectorSpec

    spec = DetectorSpec.load(nanodet)
    imported = SavedModelBackend(nanodet / "saved_model", spec)
    graph = raw_graph(nanodet_source)
    worst = [0.0, 0.0]
    for name in EXPECTED:
        image = photo(name)
        canvas, _ = resize_to_input(image, spec.input)  # the letterboxed RGB pixels
        # Upstream's input, built by hand: BGR, (x - mean) / std, NCHW.
        x = ((canvas[..., ::-1].astype(np.float32) - BGR_MEAN) / BGR_STD).transpose(2, 0, 1)
        outputs = [t.numpy() for t in graph(tf.constant(x[None]))]
        want_boxes, want_scores = numpy_decode(outputs[:3], outputs[3:])
        boxes, scores = imported.run(preprocess(image, spec.input)[0])
        worst = [max(worst[0], float(np.abs(boxes[0] - want_boxes).max())),
                 max(worst[1], float(np.abs(scores[0] - want_scores).max()))]
        assert want_scores.max() > 0.2  # real photos: the comparison covers real detections
    print(f"max abs diff: boxes {worst[0]:.2e} (normalized), scores {worst[1]:.2e}")
    assert worst[0] < 1e-4 and worst[1] < 1e-4


def top_detections(detector, name: str, threshold: float) -> list[tuple[str, float]]:
    return [(d.label, round(d.score, 3)) for d in detector.detect(photo(name),
                                                                  score_threshold=threshold)]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_photos_find_the_expected_class(nanodet, name):
    import sdk

    detector = sdk.load(nanodet / "saved_model", spec=nanodet / "detector.json")
    label, threshold = EXPECTED[name]
    found = top_detections(detector, name, 0.2)
    print(name, found[:5])
    assert any(lbl == label and score >= threshold for lbl, score in found), found
    if label != "cup":  # the cup shares the table scene with a higher-scoring dining table
        assert found[0][0] == label, found


@pytest.mark.slow
def test_tflite_fp32_export_passes_parity_and_finds_the_classes(nanodet, tmp_path):
    import sdk
    from exporters.export import ExportStatus, export

    result = export(nanodet, "tflite", "fp32", out_root=tmp_path)
    assert result.status == ExportStatus.OK, result
    parity = json.loads((result.out_dir / "parity.json").read_text())
    print("parity", parity["verdict"], parity["raw"], parity["detections"])
    lite = sdk.load(result.out_dir)
    reference = sdk.load(nanodet / "saved_model", spec=nanodet / "detector.json")
    for name, (label, threshold) in EXPECTED.items():
        found, want = top_detections(lite, name, 0.2), top_detections(reference, name, 0.2)
        print(name, "tflite fp32", found[:5])
        assert any(lbl == label and score >= threshold for lbl, score in found), found
        assert [lbl for lbl, _ in found] == [lbl for lbl, _ in want]
        np.testing.assert_allclose([s for _, s in found], [s for _, s in want], atol=2e-3)
