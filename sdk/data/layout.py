"""Where splits live inside a dataset root, and how samples are named when written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sdk.data.dataset import Sample
from sdk.data.errors import data_error

# Roboflow exports "valid"; many tools say "val". Accept either spelling for the other.
SPLIT_ALIASES: dict[str, tuple[str, ...]] = {
    "val": ("valid", "validation"),
    "valid": ("val", "validation"),
    "validation": ("val", "valid"),
}


# Listing order: the usual splits first, in pipeline order, then any others by name.
_SPLIT_ORDER = {"train": 0, "val": 1, "valid": 1, "validation": 1, "test": 2}


def find_splits(root: Path, has_split: Callable[[Path], bool]) -> list[str]:
    """Return the names of sub-folders of ``root`` that hold a split (train, val, test first)."""
    if not root.is_dir():
        return []
    names = [d.name for d in root.iterdir() if d.is_dir() and has_split(d)]
    return sorted(names, key=lambda name: (_SPLIT_ORDER.get(name, 3), name))


def resolve_split(root: Path, split: str, has_split: Callable[[Path], bool]) -> Path:
    """Return the folder of ``split`` (trying its aliases).

    Raises:
        DataError: no folder for the split exists.
    """
    for name in (split, *SPLIT_ALIASES.get(split, ())):
        if has_split(root / name):
            return root / name
    found = ", ".join(find_splits(root, has_split)) or "none"
    raise data_error(root, f"split '{split}'", f"split not found (found: {found})")


def output_names(samples: Iterable[Sample]) -> list[str]:
    """Return one flat, unique file name per sample for writing into a split folder.

    Keeps the original name where it is unique by stem (YOLO and VOC pair files by stem),
    otherwise prefixes the image id.
    """
    samples = list(samples)
    stems: dict[str, int] = {}
    for sample in samples:
        stem = sample.image_path.stem
        stems[stem] = stems.get(stem, 0) + 1
    names = []
    for sample in samples:
        name = sample.image_path.name
        names.append(name if stems[sample.image_path.stem] == 1 else f"{sample.image_id}_{name}")
    return names


def format_number(value: float) -> str:
    """Format a coordinate with at most 2 decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
