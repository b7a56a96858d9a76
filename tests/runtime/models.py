"""Test models for the runtime: a tiny Fast detector made confident, exported three ways.

An untrained detector is useless for runtime tests: with Keras' default initialisation the
activations vanish through the network and every score is ~uniform, so nothing is detected
and a parity check would compare empty lists. Recalibrating the batch norms fixes that but
makes the random network chaotic (one grey level on a few pixels moves scores by 0.1), so
no two runtimes could agree. What works, by measurement:

* weights re-drawn He-normal at gain 0.8 with identity batch norms: the signal survives
  the depth yet the network stays smooth (scores move ~1e-4 for one-level pixel noise);
* class-head kernels scaled up and the background logit raised: some anchors win with
  confident, image-dependent scores (~0.002 score noise, far inside the 0.02 parity budget).

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

WEIGHT_GAIN = 0.8  # below 1: the ordered (smooth) regime of a random ReLU network
CLASS_HEAD_GAIN = 10.0
BACKGROUND_BIAS = 12.0  # by trial: 0-60 detections >= 0.3 on the tiny synthetic test images


def reinitialize(net: keras.Model, gain: float = WEIGHT_GAIN, seed: int = 0) -> None:
    """He-normal conv kernels times ``gain`` and identity batch norms, deterministically."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.ones_like(w) if i in (0, 3) else np.zeros_like(w)
                               for i, w in enumerate(layer.get_weights())])  # g, b, mean, var
        elif isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D):
            weights = layer.get_weights()
            kh, kw, cin = weights[0].shape[:3]
            fan_in = kh * kw * (1 if isinstance(layer, keras.layers.DepthwiseConv2D) else cin)
            weights[0] = rng.normal(0, gain * np.sqrt(2.0 / fan_in), weights[0].shape)
            layer.set_weights(weights)


def sharpen_class_heads(net: keras.Model, cfg: DetectorConfig, gain: float,
                        background_bias: float) -> None:
    """Scale every class-head kernel and set the background column (0 of each anchor's C+1)."""
    step = cfg.num_classes + 1
    for layer in net.layers:
        if layer.name.startswith("head") and layer.name.endswith("_cls"):
            kernel, biases = layer.get_weights()
            biases[0::step] = background_bias
            layer.set_weights([kernel * gain, biases])


def confident_fast(model_dir: Path) -> tuple[keras.Model, DetectorConfig]:
    """Inference model of the tiny Fast detector architecture in ``model_dir``, made confident."""
    from sdk.models import build_inference_model
    from sdk.models.io import load_detector

    net, cfg, _ = load_detector(model_dir)
    reinitialize(net)
    sharpen_class_heads(net, cfg, CLASS_HEAD_GAIN, BACKGROUND_BIAS)
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
    from exporters.formats.tfjs.format import import_converter  # with its import-time workarounds

    import_converter().convert_tf_saved_model(str(saved_model), str(out))
    _copy_spec(saved_model, out, "tfjs")
    return out


def _copy_spec(src: Path, dst: Path, fmt: str) -> None:
    DetectorSpec.load(src).with_provenance(format=fmt).save(dst)
