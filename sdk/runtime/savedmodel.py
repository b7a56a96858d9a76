"""The TensorFlow backend: a SavedModel (the fp32 reference export). Needs TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sdk.runtime.backends import Backend
from sdk.runtime.contract import RuntimeLoadError, check_input, check_outputs, missing_outputs
from sdk.spec import DetectorSpec


class SavedModelBackend(Backend):
    """A SavedModel's ``serving_default`` signature.

    Args:
        path: The SavedModel folder.
        spec: Its ``detector.json``; the signature is checked against it here.
        num_threads: Ignored: TensorFlow's thread pools are process-wide and fixed once
            TensorFlow has started.

    Raises:
        RuntimeLoadError: TensorFlow missing, unreadable SavedModel, or signature mismatch.
    """

    engine = "savedmodel"
    formats = ("savedmodel",)
    marker = "saved_model.pb"
    runtime = "tensorflow"
    accelerator = "cpu"

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        try:
            import tensorflow as tf
        except ImportError as exc:
            raise RuntimeLoadError(f"{path}: a SavedModel needs TensorFlow (pip install "
                                   f"'ondevice-detect-sdk[export]'), or load the .tflite "
                                   f"export with LiteRT") from exc
        self.library, self._tf = "tensorflow", tf
        self._outputs: dict = {}
        try:
            self.fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeLoadError(f"{path}: cannot load SavedModel ({exc})") from exc
        self._bind(str(path), spec)

    def _bind(self, source: str, spec: DetectorSpec) -> None:
        inputs = self.fn.structured_input_signature[1]
        if len(inputs) != 1:
            raise RuntimeLoadError(f"{source}: expected one input, found {sorted(inputs)}")
        self.input_name, arg = next(iter(inputs.items()))
        check_input(source, spec, [1, *arg.shape[1:]], arg.dtype.as_numpy_dtype)
        outs = self.fn.structured_outputs
        missing_outputs(source, spec, list(outs))
        self.names = spec.outputs.tensor_names
        # A symbolic batch counts as 1; other unknown dims as -1 (checked as "any").
        check_outputs(source, spec, *([1, *(-1 if d is None else d
                                            for d in outs[n].shape[1:])] for n in self.names))

    def invoke(self, inputs: np.ndarray) -> None:
        """Run the signature on a [1, H, W, 3] input."""
        self._outputs = self.fn(**{self.input_name: self._tf.constant(inputs)})

    def read(self) -> tuple[np.ndarray, ...]:
        """The outputs of the last :meth:`invoke` as float32 numpy, in the order of
        ``spec.outputs.tensor_names`` (canonical: boxes, scores)."""
        return tuple(self._outputs[n].numpy().astype(np.float32, copy=False)
                     for n in self.names)
