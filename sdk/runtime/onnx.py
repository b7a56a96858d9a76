"""The ONNX Runtime backend: a ``.onnx`` model on CPU, TensorFlow not needed.

Installed by the ``onnx`` extra (``pip install 'ondevice-detect-sdk[onnx]'``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from sdk.runtime.backends import Backend
from sdk.runtime.contract import RuntimeLoadError, check_input, check_outputs, missing_outputs
from sdk.spec import DetectorSpec

METADATA_KEY = "detector.json"  # the model's metadata_props entry holding detector.json
_DTYPES = {"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int8)": "int8",
           "tensor(float16)": "float16"}


def _onnxruntime(path: Path) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise RuntimeLoadError(f"{path}: an ONNX model needs onnxruntime (pip install "
                               f"'ondevice-detect-sdk[onnx]'), or load the .tflite export "
                               f"with LiteRT") from exc
    return onnxruntime


def session_options(ort: Any, num_threads: int, optimize: bool = True) -> Any:
    """CPU session options: ``num_threads`` intra-op threads, sequential execution.

    Thread counts are always set: ONNX Runtime's own default depends on the machine
    (physical cores), which would make its timings incomparable with LiteRT's.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = num_threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                     else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    opts.log_severity_level = 3  # errors only: ORT warns about every unused initializer
    return opts


def _shape(dims: list[Any]) -> list[int] | None:
    """Static dims with a symbolic batch as 1; None when another dim is symbolic."""
    batch, *rest = dims
    if not all(isinstance(d, int) for d in rest):
        return None
    return [batch if isinstance(batch, int) else 1, *rest]


class OnnxBackend(Backend):
    """A ``.onnx`` model run by ONNX Runtime's CPU execution provider.

    Args:
        path: The ``.onnx`` file.
        spec: Its ``detector.json``; the model's input and outputs are checked against it.
        num_threads: Intra-op threads (default: all cores), set explicitly.

    Raises:
        RuntimeLoadError: onnxruntime missing, missing or corrupt file, or tensors that do
            not match the spec.
    """

    engine = "onnx"
    formats = ("onnx",)
    suffix = ".onnx"
    runtime = "onnxruntime"
    accelerator = "cpu"

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        ort = _onnxruntime(path)
        self.library = "onnxruntime"
        if not path.is_file():
            raise RuntimeLoadError(f"{path}: model file not found")
        self.num_threads = num_threads or os.cpu_count() or 1
        try:
            self.session = ort.InferenceSession(str(path), session_options(
                ort, self.num_threads), providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/... types
            raise RuntimeLoadError(f"{path}: not a valid ONNX model ({exc})") from exc
        self._outputs: list[np.ndarray] = []
        self._bind(str(path), spec)

    def _bind(self, source: str, spec: DetectorSpec) -> None:
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise RuntimeLoadError(f"{source}: expected one input tensor, found {len(inputs)}")
        self.input_name = inputs[0].name
        shape, dtype = _shape(inputs[0].shape), _DTYPES.get(inputs[0].type)
        if shape is None:
            raise RuntimeLoadError(f"{source}: input shape {inputs[0].shape} is not static; "
                                   f"detector.json expects [1, {spec.input.size[0]}, "
                                   f"{spec.input.size[1]}, 3]")
        if dtype is None:
            raise RuntimeLoadError(f"{source}: input type {inputs[0].type} is not supported "
                                   f"(float32, uint8 or int8)")
        check_input(source, spec, shape, np.dtype(dtype))
        outputs = {o.name: o for o in self.session.get_outputs()}
        missing_outputs(source, spec, list(outputs))
        self.names = list(spec.outputs.tensor_names)
        shapes = [_shape(outputs[n].shape) for n in self.names]
        if None in shapes:  # symbolic anchor counts: ask the model itself
            h, w = spec.input.size
            probe = np.zeros((1, h, w, 3), np.dtype(spec.input.dtype))
            shapes = [list(o.shape) for o in self.session.run(self.names,
                                                              {self.input_name: probe})]
        check_outputs(source, spec, *shapes)

    def invoke(self, inputs: np.ndarray) -> None:
        """Run the model on a [1, H, W, 3] input of the spec's dtype."""
        self._outputs = self.session.run(self.names, {self.input_name: inputs})

    def read(self) -> tuple[np.ndarray, ...]:
        """Outputs of the last :meth:`invoke`, float32, in the order of
        ``spec.outputs.tensor_names`` (canonical: boxes, scores)."""
        return tuple(o.astype(np.float32, copy=False) for o in self._outputs)

    @classmethod
    def embedded_spec(cls, model: Path) -> DetectorSpec | None:
        """The ``detector.json`` in the model's ``metadata_props``, None when absent."""
        import json

        ort = _onnxruntime(model)
        try:  # no graph optimization: only the metadata is wanted
            session = ort.InferenceSession(str(model), session_options(ort, 1, optimize=False),
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise RuntimeLoadError(f"{model}: not a valid ONNX model ({exc})") from exc
        text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if text is None:
            return None
        source = f"{model}:metadata_props[{METADATA_KEY}]"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            from sdk.spec import SpecError

            raise SpecError(f"{source}: not valid JSON ({exc.msg})") from exc
        return DetectorSpec.from_dict(data, source)
