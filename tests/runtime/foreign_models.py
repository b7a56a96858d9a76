"""Real models in the output layouts of detectors from elsewhere, for the runtime tests.

Tiny TensorFlow models whose outputs have the Ultralytics layout (``outputs.kind`` yolo) and
the TF OD API post-NMS layout (``detections``, four named outputs), saved as SavedModels and
converted to TFLite, ONNX and TF.js, each folder with a hand-written ``detector.json``. Their
fixed predictions are scaled by the image's brightness, so a white image gives the
detections (:data:`YOLO_EXPECTED`, :data:`DETECTIONS_EXPECTED`) and a black one none: the
input really flows through. Needs TensorFlow (and tf2onnx, tensorflowjs for those formats).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

LABELS = ["person", "cup", "cat"]
SIZE = (64, 96)  # height, width
WHITE = np.full((128, 192, 3), 255, np.uint8)  # the input's aspect: no letterbox padding
BLACK = np.zeros_like(WHITE)

# [N, 4+C] in input pixels: a cup, a weaker duplicate (NMS removes it), a cat, a weak person.
YOLO_ROWS = np.array([[48, 32, 20, 10, 0.1, 0.9, 0.0],
                      [49, 32, 20, 10, 0.0, 0.8, 0.1],
                      [20, 16, 8, 12, 0.0, 0.1, 0.7],
                      [80, 50, 10, 10, 0.2, 0.0, 0.0]], np.float32)
# TF OD API names and form: ymin, xmin, ymax, xmax; 1-based class ids; 3 of 4 slots valid.
DET_BOXES = np.array([[0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.5, 0.25],
                      [0.1, 0.1, 0.2, 0.2], [0.0, 0.0, 1.0, 1.0]], np.float32)
DET_CLASSES = np.array([3, 1, 2, 2], np.float32)
DET_SCORES = np.array([0.9, 0.6, 0.1, 0.95], np.float32)


def _brightness(images):
    """1 for a white image, 0 for a black one (inputs are normalized to [-1, 1])."""
    import tensorflow as tf

    return tf.clip_by_value(tf.reduce_mean(images) + 1.0, 0.0, 1.0)


def _save(module, function, folder: Path) -> Path:
    import tensorflow as tf

    tf.saved_model.save(module, str(folder), signatures={"serving_default": function})
    return folder


def yolo_savedmodel(folder: Path, layout: str):
    """A SavedModel with one output ``output0`` in ``layout``; returns it and its function."""
    import tensorflow as tf

    table = YOLO_ROWS.T if layout == "features_first" else YOLO_ROWS
    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([1, *SIZE, 3], tf.float32, name="images")])
    def serve(images):
        # Boxes stay put, scores follow the brightness (as a trained head's would).
        scale = tf.concat([tf.ones([4]), tf.fill([3], _brightness(images))], 0)
        scale = scale[:, None] if layout == "features_first" else scale[None]
        return {"output0": (tf.constant(table) * scale)[None]}

    module.serve = serve
    return _save(module, serve, folder), serve


def detections_savedmodel(folder: Path):
    """A SavedModel with the TF OD API outputs; returns it and its function."""
    import tensorflow as tf

    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([1, *SIZE, 3], tf.float32, name="images")])
    def serve(images):
        return {"detection_boxes": tf.constant(DET_BOXES)[None],
                "detection_classes": tf.constant(DET_CLASSES)[None],
                "detection_scores": (tf.constant(DET_SCORES) * _brightness(images))[None],
                "num_detections": tf.constant([3.0])}

    module.serve = serve
    return _save(module, serve, folder), serve


def tflite(saved: Path, out: Path) -> Path:
    """The SavedModel as ``out/model.tflite``."""
    import tensorflow as tf

    out.mkdir()
    (out / "model.tflite").write_bytes(
        tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert())
    return out


def onnx(function, out: Path) -> Path:
    """The serving function as ``out/model.onnx`` (tf2onnx, outputs keep their names)."""
    import tf2onnx

    out.mkdir()
    model, _ = tf2onnx.convert.from_function(function, input_signature=function.input_signature,
                                             opset=17)
    (out / "model.onnx").write_bytes(model.SerializeToString())
    return out


def write_spec(folders: list[Path], outputs: dict) -> None:
    """The hand-written detector.json with this ``outputs`` section, in every folder."""
    spec = {"schema_version": 1, "labels": LABELS, "outputs": outputs,
            "input": {"size": list(SIZE)}, "nms": {"score_threshold": 0.3}}
    for folder in folders:
        (folder / "detector.json").write_text(json.dumps(spec, indent=2))


YOLO_OUTPUTS = {"kind": "yolo", "predictions": "output0", "box_units": "pixels"}
DETECTIONS_OUTPUTS = {"kind": "detections", "locations": "detection_boxes",
                      "classes": "detection_classes", "scores": "detection_scores",
                      "num_detections": "num_detections", "label_offset": 1}
# (label, score, [x1, y1, x2, y2]) on WHITE: pixel boxes of a 192x128 image are twice the
# 96x64 input's. Yolo: the duplicate cup is suppressed, the person is below the threshold.
YOLO_EXPECTED = [("cup", 0.9, [76.0, 54.0, 116.0, 74.0]), ("cat", 0.7, [32.0, 20.0, 48.0, 44.0])]
# Detections: slot 3 is past num_detections (its 0.95 never shows), slot 2 is below the
# threshold.
DETECTIONS_EXPECTED = [("cat", 0.9, [96.0, 32.0, 192.0, 96.0]),
                       ("person", 0.6, [0.0, 0.0, 48.0, 64.0])]


def tfjs(saved: Path, out: Path) -> Path:
    """The SavedModel as a TF.js graph model in ``out``."""
    from exporters.formats.tfjs.format import import_converter  # with its import-time workarounds

    import_converter().convert_tf_saved_model(str(saved), str(out))
    return out


def build_all(root: Path) -> dict[str, Path]:
    """Every foreign model folder the tests load: ``yolo-<format>`` (features_first) and
    ``detections-<format>``, each with its detector.json."""
    saved, function = yolo_savedmodel(root / "yolo-savedmodel", "features_first")
    yolo = {"yolo-savedmodel": saved, "yolo-tflite": tflite(saved, root / "yolo-tflite"),
            "yolo-onnx": onnx(function, root / "yolo-onnx"),
            "yolo-tfjs": tfjs(saved, root / "yolo-tfjs")}
    write_spec(list(yolo.values()), {**YOLO_OUTPUTS, "layout": "features_first"})
    saved, _ = detections_savedmodel(root / "detections-savedmodel")
    dets = {"detections-savedmodel": saved,
            "detections-tflite": tflite(saved, root / "detections-tflite")}
    write_spec(list(dets.values()), DETECTIONS_OUTPUTS)
    return {**yolo, **dets}
