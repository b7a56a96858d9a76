"""What a detector returns: detections in original image pixels, and per-stage timings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One detected object.

    Attributes:
        label: Class name from ``detector.json``.
        class_id: Index of ``label`` in the spec's labels.
        score: Activated confidence in [0, 1].
        box: ``(x1, y1, x2, y2)`` in pixels of the original image, clipped to it.
    """

    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the box becomes a list)."""
        return {**asdict(self), "box": list(self.box)}


@dataclass(frozen=True)
class Detections:
    """Detections of one image as arrays, best first (what benchmarks and evaluation use)."""

    boxes: np.ndarray  # [K, 4] float32 pixel x1, y1, x2, y2 in the original image
    scores: np.ndarray  # [K] float32
    classes: np.ndarray  # [K] int64

    def __len__(self) -> int:
        return len(self.scores)

    def to_list(self, labels: Sequence[str]) -> list[Detection]:
        """One :class:`Detection` per row, labelled with ``labels``."""
        return [Detection(labels[int(c)], int(c), float(s), tuple(float(v) for v in b))
                for b, s, c in zip(self.boxes, self.scores, self.classes, strict=True)]


@dataclass(frozen=True)
class StageTimings:
    """Milliseconds spent in each stage of one ``detect`` call.

    The stage names are those of the device benchmark protocol (``sdk.bench.protocol``):
    *readback* copies the outputs out of the interpreter.
    """

    preprocess: float
    inference: float
    readback: float
    postprocess: float

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.readback + self.postprocess

    def to_dict(self) -> dict[str, float]:
        """Stage -> ms, in protocol order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
