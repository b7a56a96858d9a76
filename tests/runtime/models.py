"""Test models for the runtime: a tiny Fast detector made confident, exported three ways.

An untrained detector is useless for runtime tests: its activations vanish through the
randomly initialised batch norms and every score is ~uniform, so nothing is detected and a
parity check would compare empty lists. Two cheap tweaks make it a meaningful test model:

* batch-norm statistics are set from a batch of real images (one training-mode pass with
  momentum 0), so features vary with the image as in a trained network;
* the background logit bias is raised so that only some anchors win, with confident scores.

The exports follow the canonical contract with minimal code (the real exporters live in
``exporters/``; the runtime tests must not depend on them).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sdk.spec import DetectorSpec, OutputSpec

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from sdk.models.config import DetectorConfig

BACKGROUND_BIAS = 3.0  # by trial: 5-50 detections >= 0.3 on the tiny synthetic test images


def calibrate_batchnorm(net: keras.Model, images: np.ndarray) -> None:
    """Set every batch norm's moving statistics to those of ``images`` (one forward pass)."""
    import keras

    norms = [layer for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # moving stats := this batch's stats
    net(images, training=True)
    for layer, momentum in zip(norms, saved, strict=True):
        layer.momentum = momentum


def set_background_bias(net: keras.Model, cfg: DetectorConfig, bias: float) -> None:
    """Set the background column (0 of each anchor's C+1 logits) of every class head."""
    step = cfg.num_classes + 1
    for layer in net.layers:
        if layer.name.startswith("head") and layer.name.endswith("_cls"):
            kernel, biases = layer.get_weights()
            biases[0::step] = bias
            layer.set_weights([kernel, biases])


def confident_fast(model_dir: Path, images: np.ndarray) -> tuple[keras.Model, DetectorConfig]:
    """Inference model of the tiny Fast detector in ``model_dir``, made confident."""
    from sdk.models import build_inference_model
    from sdk.models.io import load_detector

    net, cfg, _ = load_detector(model_dir)
    calibrate_batchnorm(net, images)
    set_background_bias(net, cfg, BACKGROUND_BIAS)
    return build_inference_model(net, cfg), cfg


def write_spec(folder: Path, cfg: DetectorConfig, num_anchors: int, fmt: str) -> DetectorSpec:
    """Write the ``detector.json`` of one export into ``folder``."""
    spec = DetectorSpec(input=cfg.input_spec, labels=cfg.labels, nms=cfg.nms,
                        outputs=OutputSpec(num_anchors=num_anchors),
                        provenance={"architecture": cfg.arch, "format": fmt, "note": "test"})
    spec.save(folder)
    return spec


def export_savedmodel(model: keras.Model, cfg: DetectorConfig, out: Path) -> Path:
    """Keras inference model -> SavedModel folder with its detector.json."""
    from sdk.anchors import generate_anchors

    model.export(str(out), verbose=False)
    write_spec(out, cfg, len(generate_anchors(cfg.levels, cfg.input_size)), "savedmodel")
    return out


def export_tflite(saved_model: Path, out: Path) -> Path:
    """SavedModel -> fp32 ``model.tflite`` in ``out`` with the same detector.json."""
    import tensorflow as tf

    out.mkdir(parents=True, exist_ok=True)
    (out / "model.tflite").write_bytes(
        tf.lite.TFLiteConverter.from_saved_model(str(saved_model)).convert())
    _copy_spec(saved_model, out, "tflite")
    return out


def export_tfjs(saved_model: Path, out: Path) -> Path:
    """SavedModel -> fp32 TF.js graph model in ``out`` with the same detector.json."""
    _ensure_pkg_resources()
    from tensorflowjs.converters import convert_tf_saved_model

    convert_tf_saved_model(str(saved_model), str(out))
    _copy_spec(saved_model, out, "tfjs")
    return out


def _ensure_pkg_resources() -> None:
    """Give tensorflow_hub (imported by tensorflowjs) the one ``pkg_resources`` name it uses.

    setuptools >= 81 no longer ships ``pkg_resources``; the real fix is pinning
    ``setuptools<81`` in the export extra, this keeps the tests independent of it.
    """
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("pkg_resources") is None:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)


def _copy_spec(src: Path, dst: Path, fmt: str) -> None:
    DetectorSpec.load(src).with_provenance(format=fmt).save(dst)
