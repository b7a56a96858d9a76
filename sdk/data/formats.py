"""Format registry: detect a dataset's layout, read a split, write a split.

Each format is one module exposing ``detect(root)``, ``splits(root)``, ``read(root, split)``
and ``write(ds, root, split, overwrite)``. Adding a format = one module + one line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from sdk.data.dataset import Dataset
from sdk.data.errors import DataError, data_error

# Detection tries formats in this order: a COCO json or a data.yaml is a stronger signal
# than loose xml files.
FORMATS: dict[str, str] = {
    "coco": "sdk.data.coco",
    "yolo": "sdk.data.yolo",
    "voc": "sdk.data.voc",
}


def format_module(name: str) -> ModuleType:
    """Return the module implementing format ``name``.

    Raises:
        DataError: the format is unknown.
    """
    if name not in FORMATS:
        raise DataError(f"unknown format '{name}' (expected one of {', '.join(FORMATS)})")
    return importlib.import_module(FORMATS[name])


def detect_format(root: str | Path) -> str:
    """Return the format name of the dataset in ``root``.

    Raises:
        DataError: ``root`` is missing or matches no known layout.
    """
    root = Path(root)
    if not root.is_dir():
        raise data_error(root, None, "dataset folder not found")
    for name in FORMATS:
        if format_module(name).detect(root):
            return name
    raise data_error(root, None, "unknown dataset layout: expected <split>/_annotations.coco.json"
                                 " (COCO), data.yaml + <split>/images (YOLO) or <split>/*.xml"
                                 " (VOC)")


def list_splits(root: str | Path, fmt: str = "auto") -> list[str]:
    """Return the split names present in ``root``."""
    root = Path(root)
    return format_module(detect_format(root) if fmt == "auto" else fmt).splits(root)


def load_dataset(root: str | Path, split: str = "train", fmt: str = "auto") -> Dataset:
    """Load one split of a COCO, YOLO or VOC dataset (format auto-detected by default).

    Raises:
        DataError: the data is missing or invalid; the message names file, entry, problem.
    """
    root = Path(root)
    if not root.is_dir():
        raise data_error(root, None, "dataset folder not found")
    module = format_module(detect_format(root) if fmt == "auto" else fmt)
    return module.read(root, split)


def write_dataset(ds: Dataset, root: str | Path, fmt: str, split: str | None = None,
                  overwrite: bool = False) -> Path:
    """Write ``ds`` as split ``split`` (default: its own) of a ``fmt`` dataset in ``root``."""
    return format_module(fmt).write(ds, Path(root), split or ds.split, overwrite)


def write_coco(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/_annotations.coco.json`` + images (atomically)."""
    return write_dataset(ds, root, "coco", split, overwrite)


def write_yolo(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/{images,labels}`` + ``root/data.yaml`` (atomically)."""
    return write_dataset(ds, root, "yolo", split, overwrite)


def write_voc(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/*.xml`` + images + ``root/labels.txt`` (atomically)."""
    return write_dataset(ds, root, "voc", split, overwrite)
