"""Inference backends: run a preprocessed batch, return the canonical ``boxes`` and ``scores``.

Each backend reads output tensors **by name** from ``detector.json`` (converters reorder
and rename outputs between versions) and checks shapes against the spec at load time.
LiteRT is the runtime; TensorFlow is optional (SavedModel, or the last interpreter fallback).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from sdk.spec import DetectorSpec


class RuntimeLoadError(RuntimeError):
    """The model file is missing, corrupt, or does not match its ``detector.json``."""


class Backend(Protocol):
    """What :class:`sdk.runtime.detector.Detector` needs from an inference engine."""

    name: str

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[1, H, W, 3] input (dtype per spec) -> (boxes [1, N, 4], scores [1, N, C]) float32."""
        ...


def _interpreter_class():
    """LiteRT first, then the legacy tflite-runtime, then TensorFlow's bundled interpreter."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter, "tflite_runtime"
    except ImportError:
        pass
    try:
        import tensorflow as tf

        return tf.lite.Interpreter, "tensorflow"
    except ImportError as exc:
        raise RuntimeLoadError("no TFLite interpreter: pip install 'ondevice-detect-sdk[runtime]' "
                               "(ai-edge-litert)") from exc


def _check_outputs(source: str, spec: DetectorSpec, boxes_shape, scores_shape) -> None:
    n = boxes_shape[1] if len(boxes_shape) == 3 else -1
    if len(boxes_shape) != 3 or boxes_shape[2] != 4:
        raise RuntimeLoadError(f"{source}: output '{spec.outputs.boxes}' has shape "
                               f"{list(boxes_shape)}, detector.json expects [1, N, 4]")
    if list(scores_shape) != [boxes_shape[0], n, spec.num_classes]:
        raise RuntimeLoadError(f"{source}: output '{spec.outputs.scores}' has shape "
                               f"{list(scores_shape)}, detector.json expects [1, {n}, "
                               f"{spec.num_classes}] ({spec.num_classes} labels)")


def _dequantize(value: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail.get("quantization", (0.0, 0))
    if value.dtype in (np.int8, np.uint8) and scale:
        return (value.astype(np.float32) - zero) * scale
    return value.astype(np.float32, copy=False)


class TFLiteBackend:
    """A ``.tflite`` model run by LiteRT (XNNPACK on CPU)."""

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        interpreter_cls, self.library = _interpreter_class()
        self.name = f"tflite/{self.library}"
        if not path.is_file():
            raise RuntimeLoadError(f"{path}: model file not found")
        try:
            self.interp = interpreter_cls(model_path=str(path),
                                          num_threads=num_threads or os.cpu_count() or 1)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise RuntimeLoadError(f"{path}: not a valid TFLite model ({exc})") from exc
        self._bind(path, spec)

    def _bind(self, path: Path, spec: DetectorSpec) -> None:
        inp = self.interp.get_input_details()
        if len(inp) != 1:
            raise RuntimeLoadError(f"{path}: expected one input tensor, found {len(inp)}")
        self.input = inp[0]
        h, w = spec.input.size
        if list(self.input["shape"]) != [1, h, w, 3]:
            raise RuntimeLoadError(f"{path}: input shape {list(self.input['shape'])} does not "
                                   f"match detector.json input.size [{h}, {w}] (NHWC)")
        if np.dtype(self.input["dtype"]) != np.dtype(spec.input.dtype):
            raise RuntimeLoadError(f"{path}: input dtype {np.dtype(self.input['dtype'])} but "
                                   f"detector.json says {spec.input.dtype}")
        by_name = self._outputs_by_name()
        missing = [n for n in (spec.outputs.boxes, spec.outputs.scores) if n not in by_name]
        if missing:
            raise RuntimeLoadError(f"{path}: output tensor(s) {missing} named in detector.json "
                                   f"not found; the model has {sorted(by_name)}")
        self.boxes, self.scores = by_name[spec.outputs.boxes], by_name[spec.outputs.scores]
        _check_outputs(str(path), spec, self.boxes["shape"], self.scores["shape"])

    def _outputs_by_name(self) -> dict[str, dict]:
        """Output details keyed by signature name (``boxes``), falling back to tensor name."""
        details = {d["index"]: d for d in self.interp.get_output_details()}
        names = {d["name"]: d for d in details.values()}
        signatures = self.interp.get_signature_list()
        if signatures:
            runner_outputs = next(iter(signatures.values()))["outputs"]
            sig = self.interp._get_full_signature_list()  # noqa: SLF001 - name -> tensor index
            key = next(iter(sig))
            for out_name in runner_outputs:
                idx = sig[key]["outputs"][out_name]
                if idx in details:
                    names[out_name] = details[idx]
        return names

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.interp.set_tensor(self.input["index"], inputs)
        self.interp.invoke()
        boxes = _dequantize(self.interp.get_tensor(self.boxes["index"]), self.boxes)
        scores = _dequantize(self.interp.get_tensor(self.scores["index"]), self.scores)
        return boxes, scores


class SavedModelBackend:
    """A TensorFlow SavedModel (the fp32 reference export); needs TensorFlow installed."""

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        try:
            import tensorflow as tf
        except ImportError as exc:
            raise RuntimeLoadError(f"{path}: SavedModel needs TensorFlow "
                                   f"(pip install 'ondevice-detect-sdk[export]')") from exc
        self.name = "savedmodel/tensorflow"
        try:
            self.fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeLoadError(f"{path}: cannot load SavedModel ({exc})") from exc
        self.spec, self.tf = spec, tf
        outs = self.fn.structured_outputs
        missing = [n for n in (spec.outputs.boxes, spec.outputs.scores) if n not in outs]
        if missing:
            raise RuntimeLoadError(f"{path}: outputs {missing} not in signature {sorted(outs)}")
        _check_outputs(str(path), spec, [1, *outs[spec.outputs.boxes].shape[1:]],
                       [1, *outs[spec.outputs.scores].shape[1:]])
        self.input_name = next(iter(self.fn.structured_input_signature[1]))

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.fn(**{self.input_name: self.tf.constant(inputs)})
        return (out[self.spec.outputs.boxes].numpy(), out[self.spec.outputs.scores].numpy())


def open_backend(model_path: str | Path, spec: DetectorSpec,
                 num_threads: int | None = None) -> Backend:
    """Pick the backend for a model file or folder (``.tflite`` file or SavedModel folder)."""
    path = Path(model_path)
    if path.suffix == ".tflite":
        return TFLiteBackend(path, spec, num_threads)
    if (path / "saved_model.pb").is_file():
        return SavedModelBackend(path, spec, num_threads)
    raise RuntimeLoadError(f"{path}: no runnable model (expected a .tflite file or a SavedModel "
                           f"folder; TF.js models run in the browser runtime)")
