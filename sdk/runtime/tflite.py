"""The LiteRT backend: a ``.tflite`` model on CPU (XNNPACK), TensorFlow not needed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sdk.runtime.backends import Backend
from sdk.runtime.contract import RuntimeLoadError, check_input, check_outputs, missing_outputs
from sdk.spec import SPEC_FILENAME, DetectorSpec, SpecError

# Interpreter modules in order of preference (docs/DESIGN.md section 4): LiteRT is maintained,
# tflite-runtime 2.14 crashes with numpy 2, TensorFlow's copy is the heavy last resort.
INTERPRETERS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter", "tensorflow.lite")


def interpreter_class() -> tuple[type, str]:
    """The first importable ``Interpreter`` class and the name of its package."""
    import importlib

    for module in INTERPRETERS:
        try:
            return importlib.import_module(module).Interpreter, module.split(".")[0]
        except ImportError:
            continue
    raise RuntimeLoadError("no TFLite interpreter installed: pip install "
                           "'ondevice-detect-sdk[runtime]' (ai-edge-litert)")


def _signature_outputs(interp: Any) -> dict[str, dict]:
    """Output details keyed by signature output name (``boxes``), empty without signatures."""
    signatures = interp.get_signature_list()
    if not signatures:
        return {}
    key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
    # The runner is only used to map names to tensors; it goes out of scope right away
    # because a live runner makes the interpreter refuse invoke() (internal references).
    return dict(interp.get_signature_runner(key).get_output_details())


def _dequantize(value: np.ndarray, detail: dict) -> np.ndarray:
    """int8/uint8 outputs -> float32 with the tensor's scale and zero point."""
    scale, zero = detail.get("quantization", (0.0, 0))
    if value.dtype in (np.int8, np.uint8) and scale:
        return (value.astype(np.float32) - zero) * np.float32(scale)
    return value.astype(np.float32, copy=False)


class TFLiteBackend(Backend):
    """A ``.tflite`` model run by the first available interpreter (on CPU, XNNPACK).

    Args:
        path: The ``.tflite`` file.
        spec: Its ``detector.json``; tensors are checked against it here.
        num_threads: CPU threads for the interpreter (default: all cores).

    Raises:
        RuntimeLoadError: missing or corrupt file, or tensors that do not match the spec.
    """

    engine = "tflite"
    formats = ("tflite",)
    suffix = ".tflite"
    runtime = "litert"  # also when the interpreter is tflite_runtime's or TensorFlow's copy
    accelerator = "xnnpack"

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        interpreter, self.library = interpreter_class()
        if not path.is_file():
            raise RuntimeLoadError(f"{path}: model file not found")
        self.num_threads = num_threads or os.cpu_count() or 1
        if spec.outputs.kind == "detections":
            # LiteRT's multi-threaded TFLite_Detection_PostProcess (regular NMS) never runs
            # the class whose index equals the thread count (ai-edge-litert 2.3.0: its
            # workers start at class i and continue from ++next_col, next_col = threads).
            self.num_threads = 1
        try:
            self.interp = interpreter(model_path=str(path), num_threads=self.num_threads)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise RuntimeLoadError(f"{path}: not a valid TFLite model ({exc})") from exc
        self._bind(str(path), spec)

    def _bind(self, source: str, spec: DetectorSpec) -> None:
        inputs = self.interp.get_input_details()
        if len(inputs) != 1:
            raise RuntimeLoadError(f"{source}: expected one input tensor, found {len(inputs)}")
        self.input = inputs[0]
        check_input(source, spec, self.input["shape"], self.input["dtype"],
                    self.input.get("quantization"))
        # Tensor names as a fallback for models without a signature (hand-written specs).
        outputs = {d["name"]: d for d in self.interp.get_output_details()}
        outputs.update(_signature_outputs(self.interp))
        missing_outputs(source, spec, list(outputs))
        self.outputs = [outputs[name] for name in spec.outputs.tensor_names]
        check_outputs(source, spec, *(d["shape"] for d in self.outputs))

    @classmethod
    def embedded_spec(cls, model: Path) -> DetectorSpec | None:
        """The ``detector.json`` packed inside the ``.tflite``, if any.

        TFLite metadata stores associated files as a zip archive appended to the
        flatbuffer, so the stdlib zip reader finds them without the flatbuffer schema.
        """
        import json
        import zipfile

        if not zipfile.is_zipfile(model):
            return None
        with zipfile.ZipFile(model) as archive:
            if SPEC_FILENAME not in archive.namelist():
                return None
            raw = archive.read(SPEC_FILENAME)
        source = f"{model}!{SPEC_FILENAME}"
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{source}: not valid JSON ({exc.msg})") from exc
        return DetectorSpec.from_dict(data, source)

    def input_tensor(self) -> Callable[[], np.ndarray]:
        """The interpreter's input buffer (``Interpreter.tensor``): preprocessing writes
        there, which saves the copy of ``set_tensor``. LiteRT refuses to invoke while an
        array from it is alive, hence an accessor rather than the array."""
        return self.interp.tensor(self.input["index"])

    def invoke(self, inputs: np.ndarray | None = None) -> None:
        """Run the model on a [1, H, W, 3] input of the spec's dtype (None: on what was
        written through :meth:`input_tensor`)."""
        if inputs is not None:
            self.interp.set_tensor(self.input["index"], inputs)
        self.interp.invoke()

    def read(self) -> tuple[np.ndarray, ...]:
        """Copy the outputs of the last :meth:`invoke` out, float32, in the order of
        ``spec.outputs.tensor_names`` (canonical: boxes, scores)."""
        return tuple(_dequantize(self.interp.get_tensor(d["index"]), d) for d in self.outputs)
