"""Where splits live inside a dataset root, and how samples are named when written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
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


# A split name plus a year or version, as in COCO's "train2017" or "val_2014".
_DATED = re.compile(r"[-_]?\d+")
_UNDATED = re.compile(r"(\D+?)[-_]?\d+")

# Names the writers give the two layouts of every format.
WRITE_LAYOUTS = ("roboflow", "standard")


def sort_splits(names: Iterable[str]) -> list[str]:
    """Return unique split names in pipeline order (train, val, test), then by name."""
    return sorted(set(names), key=lambda name: (_SPLIT_ORDER.get(name, 3), name))


def match_split(requested: str, names: Sequence[str]) -> str | None:
    """Return the split of ``names`` that ``requested`` means, or None.

    Tries the exact name, then its aliases (``val`` = ``valid`` = ``validation``), then a
    single dated variant (``train`` -> ``train2017``), then the name without its date
    (``val2017`` -> ``val`` or ``valid``).
    """
    if requested in names:
        return requested
    wanted = (requested, *SPLIT_ALIASES.get(requested, ()))
    for name in wanted[1:]:
        if name in names:
            return name
    for name in wanted:
        dated = [n for n in names if n.startswith(name) and _DATED.fullmatch(n[len(name):])]
        if len(dated) == 1:
            return dated[0]
    undated = _UNDATED.fullmatch(requested)
    if undated is not None:
        return match_split(undated.group(1), names)
    return None


def split_not_found(root: Path, split: str, names: Iterable[str]) -> Exception:
    """Build the DataError for a split that is not in ``names``."""
    found = ", ".join(names) or "none"
    return data_error(root, f"split '{split}'", f"split not found (found: {found})")


def check_layout(layout: str) -> None:
    """Raise DataError unless ``layout`` is one of :data:`WRITE_LAYOUTS`."""
    if layout not in WRITE_LAYOUTS:
        raise data_error("layout", None, f"unknown layout '{layout}' "
                                         f"(expected one of {', '.join(WRITE_LAYOUTS)})")


def find_splits(root: Path, has_split: Callable[[Path], bool]) -> list[str]:
    """Return the names of sub-folders of ``root`` that hold a split (train, val, test first)."""
    if not root.is_dir():
        return []
    return sort_splits(d.name for d in root.iterdir() if d.is_dir() and has_split(d))


def resolve_split(root: Path, split: str, has_split: Callable[[Path], bool]) -> Path:
    """Return the folder of ``split`` (trying its aliases and dated variants).

    Raises:
        DataError: no folder for the split exists.
    """
    names = find_splits(root, has_split)
    name = match_split(split, names)
    if name is None:
        raise split_not_found(root, split, names)
    return root / name


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


def count(number: int, noun: str) -> str:
    """``"1 image"``, ``"3 images"``: counts in the messages of ``sdk data check``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
