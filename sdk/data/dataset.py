"""In-memory detection dataset: the format-independent result of every reader."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        boxes: float32 ``[K, 4]`` absolute pixel ``x1, y1, x2, y2`` inside the image: the
            objects to learn and to find (crowd and difficult objects excluded).
        labels: int64 ``[K]`` indices into :attr:`Dataset.classes`.
        image_id: Id of the image in its split (the COCO id when read from COCO).
        ignore_boxes: float32 ``[M, 4]`` regions that are neither targets nor false
            positives: COCO ``iscrowd`` and VOC ``difficult`` objects. Training skips them;
            evaluation treats them as crowd regions, as pycocotools does.
        ignore_labels: int64 ``[M]`` class indices of ``ignore_boxes``.
    """

    image_path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray
    image_id: int
    ignore_boxes: np.ndarray | None = None
    ignore_labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Frozen means frozen: make the arrays read-only too, so a training pipeline
        # cannot silently corrupt the dataset it shares with the evaluator.
        _set_readonly(self, "boxes", self.boxes, np.float32, (-1, 4))
        _set_readonly(self, "labels", self.labels, np.int64, (-1,))
        _set_readonly(self, "ignore_boxes", [] if self.ignore_boxes is None
                      else self.ignore_boxes, np.float32, (-1, 4))
        _set_readonly(self, "ignore_labels", [] if self.ignore_labels is None
                      else self.ignore_labels, np.int64, (-1,))
        if len(self.boxes) != len(self.labels) or len(self.ignore_boxes) != len(
                self.ignore_labels):
            raise ValueError(f"{self.image_path}: boxes and labels differ in length")
        object.__setattr__(self, "image_path", Path(self.image_path))


def _set_readonly(sample: Sample, name: str, value: Any, dtype: type, shape: tuple[int, ...],
                  ) -> None:
    """Store ``value`` on the frozen ``sample`` as a read-only array of ``dtype``/``shape``."""
    array = np.array(value, dtype=dtype).reshape(shape)
    array.flags.writeable = False
    object.__setattr__(sample, name, array)


@dataclass(frozen=True)
class Dataset:
    """One split of a detection dataset.

    Attributes:
        classes: Class names; ``Sample.labels`` index into this tuple.
        samples: The images of the split with their objects.
        root: Dataset root folder.
        split: Split name as requested (``"train"``, ``"val"``, ...).
        format: Format it was read from: ``"coco"``, ``"yolo"`` or ``"voc"``.
        layout: Which layout of the format, e.g. ``"Ultralytics data.yaml"``.
        source: Where this split came from (files and folders), for ``sdk data check``.
    """

    classes: tuple[str, ...]
    samples: tuple[Sample, ...]
    root: Path
    split: str
    format: str
    layout: str = ""
    source: str = ""

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
            if len(sample.ignore_boxes):
                # Only when present, so digests of datasets without crowd objects stay put.
                record.append(sorted(zip(sample.ignore_labels.tolist(),
                                         np.round(sample.ignore_boxes.astype(np.float64),
                                                  2).tolist(), strict=True)))
            digest.update(json.dumps(record).encode())
        return digest.hexdigest()


def _file_size(path: Path) -> int:
    """Return the file size in bytes, -1 for a file that vanished since loading."""
    try:
        return path.stat().st_size
    except OSError:
        return -1


def check_box(box: tuple[float, float, float, float], width: int, height: int,
              file: str | Path, entry: str, tolerance: tuple[float, float] | None = None,
              ) -> tuple[float, float, float, float]:
    """Validate an ``x1, y1, x2, y2`` box against the image size and clip it.

    ``tolerance`` is how far (x, y pixels) the box may stick out before it counts as wrong;
    default ``BOX_TOLERANCE_PX`` on both axes.

    Raises:
        DataError: the box is not finite, has a non-positive width or height, or lies
            outside the image by more than the tolerance.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    shown = f"[{x1:g}, {y1:g}, {x2:g}, {y2:g}]"
    if not all(np.isfinite((x1, y1, x2, y2))):
        raise data_error(file, entry, f"box {shown} has a non-finite coordinate")
    if x2 <= x1 or y2 <= y1:
        raise data_error(file, entry, f"box {shown} has a non-positive width or height")
    tol_x, tol_y = tolerance or (BOX_TOLERANCE_PX, BOX_TOLERANCE_PX)
    if x1 < -tol_x or y1 < -tol_y or x2 > width + tol_x or y2 > height + tol_y:
        raise data_error(file, entry, f"box {shown} lies outside the {width}x{height} image")
    x1, y1 = max(x1, 0.0), max(y1, 0.0)
    x2, y2 = min(x2, float(width)), min(y2, float(height))
    if x2 <= x1 or y2 <= y1:
        raise data_error(file, entry, f"box {shown} is empty once clipped to the image")
    return x1, y1, x2, y2
