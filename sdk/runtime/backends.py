"""Inference backends: run a preprocessed batch, return the canonical ``boxes`` and ``scores``.

Each backend reads output tensors **by name** from ``detector.json`` and checks shapes at
load time (:mod:`sdk.runtime.contract`). LiteRT is the runtime; TensorFlow is optional
(SavedModel, or the last interpreter fallback) and imported only when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from sdk.runtime.contract import RuntimeLoadError
from sdk.runtime.savedmodel import SavedModelBackend
from sdk.runtime.tflite import TFLiteBackend
from sdk.spec import DetectorSpec

__all__ = ["Backend", "RuntimeLoadError", "SavedModelBackend", "TFLiteBackend", "open_backend"]


class Backend(Protocol):
    """What :class:`sdk.runtime.detector.Detector` needs from an inference engine."""

    name: str

    def invoke(self, inputs: np.ndarray) -> None:
        """Run the model on a [1, H, W, 3] input (dtype per spec)."""

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """Outputs of the last invoke: (boxes [1, N, 4], scores [1, N, C]) float32."""
        ...

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``invoke`` then ``read``."""
        ...


def open_backend(model_path: str | Path, spec: DetectorSpec,
                 num_threads: int | None = None) -> Backend:
    """Open a ``.tflite`` file or a SavedModel folder, checked against ``spec``.

    Raises:
        RuntimeLoadError: not a runnable model, or its tensors do not match ``spec``.
    """
    path = Path(model_path)
    if path.suffix == ".tflite":
        return TFLiteBackend(path, spec, num_threads)
    if (path / "saved_model.pb").is_file():
        return SavedModelBackend(path, spec, num_threads)
    raise RuntimeLoadError(f"{path}: no runnable model (expected a .tflite file or a SavedModel "
                           f"folder; TF.js models run in the browser runtime sdk/js/detector.js)")
