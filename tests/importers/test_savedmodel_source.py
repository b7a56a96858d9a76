"""The SavedModel route: a small YOLO-style model with variables, built here, imported with
the ``yolo`` decoder, gives what the runtime's own ``yolo`` output kind gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

SIZE, CLASSES, CELLS = 32, 3, 16  # 4x4 cells of 8 px


def build_yolo(folder: Path) -> Path:
    """A SavedModel: images [B, 32, 32, 3] in [0, 1] -> output0 [B, 4+C, 16] (pixels)."""
    rng = np.random.default_rng(0)

    class Yolo(tf.Module):
        def __init__(self):
            self.kernel = tf.Variable(rng.normal(0, 0.3, (8, 8, 3, 4 + CLASSES)), dtype=tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32)])
        def serve(self, images):
            y = tf.nn.conv2d(images, self.kernel, strides=8, padding="VALID")  # [B, 4, 4, 7]
            y = tf.reshape(y, [-1, CELLS, 4 + CLASSES])
            ys, xs = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
            centres = tf.constant(np.stack([xs, ys], -1).reshape(1, CELLS, 2) * 8.0 + 4.0,
                                  tf.float32)  # cx, cy of each 8 px cell
            boxes = tf.concat([centres + tf.tanh(y[..., :2]) * 4,
                               tf.exp(tf.tanh(y[..., 2:4])) * 8], axis=-1)
            out = tf.concat([boxes, tf.sigmoid(y[..., 4:])], axis=-1)
            return {"output0": tf.transpose(out, [0, 2, 1])}

    model = Yolo()
    tf.saved_model.save(model, str(folder), signatures={"serving_default": model.serve})
    return folder


def config(tmp_path: Path) -> Path:
    path = tmp_path / "yolo.json"
    path.write_text(json.dumps({
        "schema_version": 1, "name": "tiny-yolo",
        "input": {"size": [SIZE, SIZE], "layout": "NHWC", "channel_order": "RGB",
                  "mean": [0, 0, 0], "std": [255, 255, 255], "pad_value": 114},
        "decoder": {"name": "yolo", "predictions": "output0", "layout": "features_first",
                    "box_units": "pixels"},
        "labels": ["a", "b", "c"], "nms": {"score_threshold": 0.2}}))
    return path


def test_savedmodel_import_matches_the_yolo_output_kind(tmp_path):
    from importers.build import import_model
    from sdk.output_kinds import yolo_to_canonical
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes
    from sdk.runtime.savedmodel import SavedModelBackend
    from sdk.spec import DetectorSpec, OutputSpec

    source = build_yolo(tmp_path / "yolo_saved")
    result = import_model(source, config(tmp_path), tmp_path / "imported")
    spec = DetectorSpec.load(result.out)
    assert (spec.input.mean, spec.input.std, spec.input.pad_value) == (
        (0.0, 0.0, 0.0), (255.0, 255.0, 255.0), 114)
    assert spec.outputs.num_anchors == CELLS and spec.nms.score_threshold == 0.2
    assert spec.provenance["imported_from"] == "savedmodel"
    assert set(spec.provenance["source_sha256"]) >= {"saved_model.pb"}
    imported = SavedModelBackend(result.out / "saved_model", spec)
    raw = tf.saved_model.load(str(source)).signatures["serving_default"]
    yolo = OutputSpec(kind="yolo", predictions="output0", layout="features_first",
                      box_units="pixels")
    for image in synthetic_probes(3):
        x, _ = preprocess(np.ascontiguousarray(image[::3, ::3]), spec.input)
        boxes, scores = imported.run(x)
        want_boxes, want_scores = yolo_to_canonical(raw(tf.constant(x))["output0"].numpy(),
                                                    yolo, CLASSES, (SIZE, SIZE))
        np.testing.assert_allclose(boxes[0], want_boxes, atol=1e-5)
        np.testing.assert_allclose(scores[0], want_scores, atol=1e-6)
        assert scores.std() > 0.01  # the model reacts to its input: the check can fail


def test_savedmodel_signature_errors(tmp_path):
    from importers.build import import_model
    from importers.errors import ImportConfigError

    source = build_yolo(tmp_path / "yolo_saved")
    cfg = json.loads(config(tmp_path).read_text())
    cfg["source"] = {"signature": "detect"}
    (tmp_path / "sig.json").write_text(json.dumps(cfg))
    with pytest.raises(ImportConfigError, match=r"sig.json: field 'source.signature' names "
                                                r"'detect'.*\['serving_default'\]"):
        import_model(source, tmp_path / "sig.json", tmp_path / "out")
    cfg.pop("source")
    cfg["decoder"]["layout"] = "anchors_first"
    (tmp_path / "layout.json").write_text(json.dumps(cfg))
    with pytest.raises(ImportConfigError, match=r"field 'decoder.predictions' names tensor "
                                                r"'output0' of shape \[None, 7, 16\]"):
        import_model(source, tmp_path / "layout.json", tmp_path / "out")
