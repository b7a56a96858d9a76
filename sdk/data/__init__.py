"""Detection datasets: read and write COCO / YOLO / VOC, check them, synthesize one.

``load_dataset(root, split)`` reads every common layout of the three formats (official
COCO, Ultralytics, VOC devkit, Roboflow's exports; one module per format, with a
``*_layout`` module finding the splits) and returns a format-independent
:class:`Dataset`; every bad input raises :class:`DataError` naming the file, the entry
and the problem.
"""

from __future__ import annotations

from sdk.data.dataset import Dataset, Sample
from sdk.data.errors import DataError
from sdk.data.formats import (
    FORMATS,
    detect_format,
    list_splits,
    load_dataset,
    write_coco,
    write_dataset,
    write_voc,
    write_yolo,
)
from sdk.data.images import load_image

__all__ = [
    "FORMATS",
    "DataError",
    "Dataset",
    "Sample",
    "detect_format",
    "list_splits",
    "load_dataset",
    "load_image",
    "write_coco",
    "write_dataset",
    "write_voc",
    "write_yolo",
]
