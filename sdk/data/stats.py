"""Dataset statistics: objects per class and per COCO size bucket."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from sdk.data.dataset import Dataset

# COCO's area thresholds (pixels of the original image), applied to the box area.
SMALL_MAX_AREA = 32**2
MEDIUM_MAX_AREA = 96**2
BUCKETS = ("small", "medium", "large")


@dataclass(frozen=True)
class DatasetStats:
    """Counts describing one split.

    Attributes:
        images: Number of images.
        objects: Number of boxes.
        empty_images: Images without any box.
        per_class: Boxes per class name, in class order.
        buckets: Boxes per COCO size bucket (``small``, ``medium``, ``large``).
        ignored: Ignore regions (COCO crowd, VOC difficult), not counted in ``objects``.
    """

    images: int
    objects: int
    empty_images: int
    per_class: dict[str, int]
    buckets: dict[str, int]
    ignored: int = 0


def size_buckets(areas: np.ndarray) -> np.ndarray:
    """Return the bucket index (0 small, 1 medium, 2 large) of each box area."""
    return np.digitize(areas, [SMALL_MAX_AREA, MEDIUM_MAX_AREA])


def summarize_objects(classes: tuple[str, ...] | list[str],
                      items: Iterable[tuple[np.ndarray, np.ndarray]]) -> DatasetStats:
    """Summarize ``(boxes [K, 4] xyxy, labels [K])`` pairs, one pair per image."""
    per_class = np.zeros(len(classes), dtype=np.int64)
    per_bucket = np.zeros(len(BUCKETS), dtype=np.int64)
    images = empty = 0
    for boxes, labels in items:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        images += 1
        empty += int(len(boxes) == 0)
        per_class += np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        per_bucket += np.bincount(size_buckets(areas), minlength=len(BUCKETS))
    return DatasetStats(images, int(per_class.sum()), empty,
                        dict(zip(classes, per_class.tolist(), strict=True)),
                        dict(zip(BUCKETS, per_bucket.tolist(), strict=True)))


def summarize(ds: Dataset) -> DatasetStats:
    """Summarize one split."""
    stats = summarize_objects(ds.classes, ((s.boxes, s.labels) for s in ds.samples))
    return replace(stats, ignored=sum(len(s.ignore_boxes) for s in ds.samples))
