"""A minimal third engine for the registry tests: replays stored canonical outputs.

It is what adding an engine takes (one :class:`~sdk.runtime.backends.Backend` subclass + one
registry line): ``model.npz`` holds ``boxes`` [1, N, 4] and ``scores`` [1, N, C], which every
``invoke`` "computes" again, so detections are known exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sdk.runtime.backends import Backend
from sdk.runtime.contract import RuntimeLoadError, check_outputs
from sdk.spec import DetectorSpec, InputSpec, OutputSpec

REGISTRY_ENTRY = ("npz", "tests.runtime.npz_engine:NpzBackend")  # (key, class path)
LABELS = ("circle", "square")


def _stored_outputs(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as data:
            return data["boxes"], data["scores"]
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeLoadError(f"{path}: not a boxes/scores .npz ({exc})") from exc


class NpzBackend(Backend):
    """Stored ``boxes`` and ``scores`` returned for any input."""

    engine = "npz"
    formats = ("npz",)
    suffix = ".npz"
    runtime = "replay"
    accelerator = "cpu"

    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        self.library = "numpy"
        self._outputs = _stored_outputs(path)
        check_outputs(str(path), spec, self._outputs[0].shape, self._outputs[1].shape)

    def invoke(self, inputs: np.ndarray) -> None:
        """Nothing to compute: the outputs are stored."""

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        return self._outputs


def write_npz_export(folder: Path) -> Path:
    """An export folder of this engine: two objects (a circle and a square) plus a weaker
    duplicate of the circle that NMS removes; ``stretch`` input, so boxes scale per axis."""
    folder.mkdir(parents=True)
    boxes = np.array([[[0.1, 0.1, 0.5, 0.5], [0.6, 0.2, 0.9, 0.4], [0.1, 0.1, 0.5, 0.51]]],
                     np.float32)
    scores = np.array([[[0.9, 0.0], [0.1, 0.7], [0.8, 0.0]]], np.float32)
    np.savez(folder / "model.npz", boxes=boxes, scores=scores)
    DetectorSpec(input=InputSpec(size=(100, 100), resize="stretch"), labels=LABELS,
                 outputs=OutputSpec(num_anchors=3),
                 provenance={"architecture": "shapes", "format": "npz",
                             "quantization": "fp32"}).save(folder)
    return folder
