"""In-memory detection dataset: the format-independent result of every reader."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdk.data.errors import data_error

# Boxes may stick out of the image by this many pixels (rounding in exporters) before
# they count as wrong; within the tolerance they are clipped.
BOX_TOLERANCE_PX = 1.0


@dataclass(frozen=True, eq=False)
class Sample:
    """One image and its objects.

    Attributes:
        image_path: Absolute path of the image file.
        width: Image width in pixels (after EXIF orientation).
        height: Image height in pixels (after EXIF orientation).
        boxes: float32 ``[K, 4]`` absolute pixel ``x1, y1, x2, y2`` inside the image.
        labels: int64 ``[K]`` indices into :attr:`Dataset.classes`.
        image_id: Id of the image in its split (the COCO id when read from COCO).
    """

    image_path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray
    image_id: int

    def __post_init__(self) -> None:
        # Frozen means frozen: make the arrays read-only too, so a training pipeline
        # cannot silently corrupt the dataset it shares with the evaluator.
        boxes = np.array(self.boxes, dtype=np.float32).reshape(-1, 4)
        labels = np.array(self.labels, dtype=np.int64).reshape(-1)
        boxes.flags.writeable = False
        labels.flags.writeable = False
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "image_path", Path(self.image_path))


@dataclass(frozen=True)
class Dataset:
    """One split of a detection dataset.

    Attributes:
        classes: Class names; ``Sample.labels`` index into this tuple.
        samples: The images of the split with their objects.
        root: Dataset root folder.
        split: Split name as requested (``"train"``, ``"val"``, ...).
        format: Layout it was read from: ``"coco"``, ``"yolo"`` or ``"voc"``.
    """

    classes: tuple[str, ...]
    samples: tuple[Sample, ...]
    root: Path
    split: str
    format: str

    def __len__(self) -> int:
        return len(self.samples)

    def fingerprint(self) -> str:
        """Return a sha256 hex digest of classes and per-sample name, sizes, boxes, labels.

        Samples are hashed in file-name order and objects in (label, box) order, so the
        digest does not depend on the order of entries in the annotation file; boxes are
        rounded to 0.01 px to ignore float noise.
        """
        digest = hashlib.sha256(json.dumps(list(self.classes)).encode())
        for sample in sorted(self.samples, key=lambda s: (s.image_path.name, s.image_id)):
            objects = sorted(zip(sample.labels.tolist(),
                                 np.round(sample.boxes.astype(np.float64), 2).tolist(),
                                 strict=True))
            record = [sample.image_path.name, _file_size(sample.image_path),
                      sample.width, sample.height, objects]
            digest.update(json.dumps(record).encode())
        return digest.hexdigest()


def _file_size(path: Path) -> int:
    """Return the file size in bytes, -1 for a file that vanished since loading."""
    try:
        return path.stat().st_size
    except OSError:
        return -1


def check_box(box: tuple[float, float, float, float], width: int, height: int,
              file: str | Path, entry: str) -> tuple[float, float, float, float]:
    """Validate an ``x1, y1, x2, y2`` box against the image size and clip it.

    Raises:
        DataError: the box is not finite, has a non-positive width or height, or lies
            outside the image by more than ``BOX_TOLERANCE_PX``.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    shown = f"[{x1:g}, {y1:g}, {x2:g}, {y2:g}]"
    if not all(np.isfinite((x1, y1, x2, y2))):
        raise data_error(file, entry, f"box {shown} has a non-finite coordinate")
    if x2 <= x1 or y2 <= y1:
        raise data_error(file, entry, f"box {shown} has a non-positive width or height")
    tol = BOX_TOLERANCE_PX
    if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
        raise data_error(file, entry, f"box {shown} lies outside the {width}x{height} image")
    x1, y1 = max(x1, 0.0), max(y1, 0.0)
    x2, y2 = min(x2, float(width)), min(y2, float(height))
    if x2 <= x1 or y2 <= y1:
        raise data_error(file, entry, f"box {shown} is empty once clipped to the image")
    return x1, y1, x2, y2
