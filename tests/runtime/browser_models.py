"""Test models for the three browser engines: static-shape TFLite and ONNX, fp32 and int8.

The browser engines need what the exporters write now: LiteRT.js refuses a dynamic batch
dimension (``[-1, H, W, 3]``), so every model here has the static input ``[1, H, W, 3]``.
The conversions are the minimal ones (the real exporters live in ``exporters/``; the runtime
tests must not depend on them):

* TFLite from a concrete function of fixed batch 1 (signature outputs ``boxes``, ``scores``);
  int8 = calibrated weights and activations, float input and output, float fallback for the
  ops without an integer kernel (what ``sdk export --quantize int8`` ships by default);
* ONNX through tf2onnx (opset 17), int8 = int8 convolution weights (per output channel,
  symmetric) each read through a ``DequantizeLinear``, activations in float. Quantizing the
  activations too (onnxruntime's static QDQ, what ``sdk export`` ships) makes the result
  depend on each runtime's integer kernels: native onnxruntime fuses QDQ pairs into x86
  int8 kernels that round differently from onnxruntime-web, and this deliberately
  confident test model turns one quantization step into score changes of 0.1-0.3, beyond
  the parity budget; the benchmark measures the real models' QDQ exports instead.

Each folder gets the ``detector.json`` of the source (format recorded in its provenance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sdk.preprocess import preprocess
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    import keras

OPSET = 17


def _calibration(spec: DetectorSpec, images: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
    """Model inputs [1, H, W, 3] float32 of the calibration images."""
    for image in images:
        yield preprocess(image, spec.input)[0].astype(np.float32)


def _static_function(model: keras.Model, spec: DetectorSpec) -> Callable:
    import tensorflow as tf

    h, w = spec.input.size
    signature = tf.TensorSpec([1, h, w, 3], tf.float32, name=spec.input.name)
    return tf.function(lambda x: model(x, training=False), input_signature=[signature])


def _static_savedmodel(model: keras.Model, spec: DetectorSpec, folder: Path) -> Path:
    """A SavedModel whose serving signature takes ``[1, H, W, 3]`` (Keras' own export, so
    the converters freeze the weights in)."""
    import tensorflow as tf

    h, w = spec.input.size
    model.export(str(folder), verbose=False, input_signature=[
        tf.TensorSpec([1, h, w, 3], tf.float32, name=spec.input.name)])
    return folder


def export_static_tflite(model: keras.Model, spec: DetectorSpec, out: Path, quantization: str,
                         calibration: Sequence[np.ndarray] = ()) -> Path:
    """``model.tflite`` with input ``[1, H, W, 3]`` (fp32, or int8 calibrated on the images)."""
    import tempfile

    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        saved = _static_savedmodel(model, spec, Path(tmp) / "saved")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if quantization == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: (
                [x] for x in _calibration(spec, calibration))
        elif quantization != "fp32":
            raise ValueError(f"unsupported test quantization {quantization!r}")
        flat = converter.convert()
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.tflite").write_bytes(flat)
    spec.with_provenance(format="tflite", quantization=quantization).save(out)
    return out


def export_onnx(model: keras.Model, spec: DetectorSpec, out: Path, quantization: str,
                calibration: Sequence[np.ndarray] = ()) -> Path:
    """``model.onnx`` with input ``[1, H, W, 3]`` and outputs ``boxes``, ``scores``."""
    import tf2onnx

    out.mkdir(parents=True, exist_ok=True)
    path = out / "model.onnx"
    fn = _static_function(model, spec)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature,
                                            opset=OPSET, output_path=None)
    _rename_outputs(proto, spec)
    if quantization == "int8":
        _int8_weights(proto)
    elif quantization != "fp32":
        raise ValueError(f"unsupported test quantization {quantization!r}")
    path.write_bytes(proto.SerializeToString())
    spec.with_provenance(format="onnx", quantization=quantization).save(out)
    return out


def _int8_weights(proto: object) -> None:
    """Store every Conv weight as int8 (per output channel, symmetric) behind a
    DequantizeLinear node, in place."""
    from onnx import helper, numpy_helper

    graph = proto.graph  # type: ignore[attr-defined]
    weights = {init.name: init for init in graph.initializer}
    added = []
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1] not in weights:
            continue
        name = node.input[1]
        w = numpy_helper.to_array(weights[name]).astype(np.float32)
        scale = np.abs(w.reshape(len(w), -1)).max(axis=1) / 127
        scale[scale == 0] = 1.0
        q = np.clip(np.round(w / scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127)
        graph.initializer.remove(weights[name])
        graph.initializer.extend([
            numpy_helper.from_array(q.astype(np.int8), f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros(len(w), np.int8), f"{name}_zero")])
        added.append(helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale",
                                                           f"{name}_zero"], [name], axis=0))
    for node in reversed(added):
        graph.node.insert(0, node)


def _rename_outputs(proto: object, spec: DetectorSpec) -> None:
    """Name the graph outputs as detector.json does (tf2onnx keeps TF's ``Identity:0``)."""
    wanted = {4: spec.outputs.boxes, len(spec.labels): spec.outputs.scores}
    graph = proto.graph  # type: ignore[attr-defined]
    for output in graph.output:
        last = output.type.tensor_type.shape.dim[-1].dim_value
        new = wanted.get(last)
        if new is None or new == output.name:
            continue
        old = output.name
        for node in graph.node:
            node.output[:] = [new if name == old else name for name in node.output]
            node.input[:] = [new if name == old else name for name in node.input]
        output.name = new


FOLDERS = ("tflite-fp32", "tflite-int8", "onnx-fp32", "onnx-int8")


def build_browser_exports(root: Path, model_dir: Path, calibration: Path) -> dict[str, Path]:
    """The confident tiny Fast detector (:func:`tests.runtime.models.confident_fast`) as
    static TFLite and ONNX, fp32 and int8: ``{"tflite-fp32": folder, ...}``.

    Built once under ``root`` (several test modules share it in one session: the folders
    are reused when ``root/complete`` exists); ``calibration`` is a folder of JPEG images.
    """
    from PIL import Image

    from tests.runtime import models

    folders = {name: root / name for name in FOLDERS}
    if (root / "complete").is_file():
        return folders
    model, cfg = models.confident_fast(model_dir)
    spec = DetectorSpec(input=cfg.input_spec, labels=cfg.labels, nms=cfg.nms,
                        provenance={"architecture": cfg.arch, "note": "test"})
    images = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(calibration.glob("*.jpg"))]
    for name, folder in folders.items():
        fmt, quantization = name.split("-")
        export = export_static_tflite if fmt == "tflite" else export_onnx
        export(model, spec, folder, quantization, images)
    (root / "complete").touch()
    return folders
