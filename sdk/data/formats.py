"""Format registry: detect a dataset's layout, read a split, write a split.

Each format is one module exposing ``detect(root)``, ``splits(root)``, ``read(root, split)``
and ``write(ds, root, split, overwrite, layout)``. Adding a format = one module + one line
here. ``root`` is a dataset folder, or for COCO one annotation file and for YOLO the data
yaml.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from sdk.data.dataset import Dataset
from sdk.data.errors import DataError, data_error

# Detection tries formats in this order: a COCO json or a data.yaml is a stronger signal
# than loose xml files.
_LAYOUT_HELP = ("expected COCO (annotations/instances_<split>.json, <split>/_annotations.coco.json"
                " or a .json file), YOLO (data.yaml, or classes.txt + <split>/images or "
                "images/<split>) or Pascal VOC (VOCdevkit/VOC20xx, Annotations/ + ImageSets/Main,"
                " or <split>/*.xml)")
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
    """Return the format name of the dataset at ``root`` (a folder or an annotation file).

    Raises:
        DataError: ``root`` is missing or matches no known layout.
    """
    root = Path(root)
    if not root.exists():
        raise data_error(root, None, "dataset folder not found")
    for name in FORMATS:
        if format_module(name).detect(root):
            return name
    raise data_error(root, None, f"unknown dataset layout: {_LAYOUT_HELP}")


def list_splits(root: str | Path, fmt: str = "auto") -> list[str]:
    """Return the split names present in ``root``."""
    root = Path(root)
    return format_module(detect_format(root) if fmt == "auto" else fmt).splits(root)


def load_dataset(root: str | Path, split: str = "train", fmt: str = "auto",
                 images: str | Path | None = None) -> Dataset:
    """Load one split of a COCO, YOLO or VOC dataset (format auto-detected by default).

    ``root`` is the dataset folder in any supported layout, a COCO annotation file (the
    one split there is, whatever ``split`` says) or a YOLO data yaml. ``images`` is the
    folder COCO ``file_name``s are relative to, when not in the usual places.

    Raises:
        DataError: the data is missing or invalid; the message names file, entry, problem.
    """
    root = Path(root)
    if not root.exists():
        raise data_error(root, None, "dataset folder not found")
    name = detect_format(root) if fmt == "auto" else fmt
    module = format_module(name)
    if images is None:
        return module.read(root, split)
    if name != "coco":
        raise data_error(root, None, f"an images folder applies to COCO annotation files, "
                                     f"not to {name} datasets")
    return module.read(root, split, Path(images))


def write_dataset(ds: Dataset, root: str | Path, fmt: str, split: str | None = None,
                  overwrite: bool = False, layout: str = "roboflow") -> Path:
    """Write ``ds`` as split ``split`` (default: its own) of a ``fmt`` dataset in ``root``.

    ``layout`` ``roboflow`` writes Roboflow's export layout of the format, ``standard`` the
    format's own (COCO ``annotations/instances_<split>.json``, Ultralytics
    ``images/<split>`` + ``labels/<split>``, VOC devkit).
    """
    return format_module(fmt).write(ds, Path(root), split or ds.split, overwrite, layout)


def write_coco(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/_annotations.coco.json`` + images (atomically)."""
    return write_dataset(ds, root, "coco", split, overwrite)


def write_yolo(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/{images,labels}`` + ``root/data.yaml`` (atomically)."""
    return write_dataset(ds, root, "yolo", split, overwrite)


def write_voc(ds: Dataset, root: str | Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/*.xml`` + images + ``root/labels.txt`` (atomically)."""
    return write_dataset(ds, root, "voc", split, overwrite)
