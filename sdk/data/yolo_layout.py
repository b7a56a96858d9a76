"""Where the splits of a YOLO dataset live, following Ultralytics' rules.

* ``data.yaml`` (or ``data.yml``, or the only ``*.yaml`` naming ``names`` in the root, or
  the yaml file given as the root): ``path`` is the dataset folder (absolute, or relative
  to the yaml's folder or the working directory; the yaml's folder when absent or not
  found). ``train``/``val``/``test``/``minival`` (``validation`` = ``val``) are each a
  folder (walked recursively), a ``.txt`` list of image paths (relative ones: to the
  list's folder, then to ``path``), or a list of either, relative to ``path``; a path
  starting with ``../`` that does not exist is retried without it (Roboflow writes
  ``train: ../train/images``). A split whose path is missing is not listed; reading it
  names the yaml key.
* Without those keys (or when the path they name is missing), the folder conventions:
  ``ROOT/<split>/images`` (Roboflow) and ``ROOT/images/<split>`` (Ultralytics).
* Labels: the image path with its last ``/images/`` replaced by ``/labels/`` and the
  extension by ``.txt``; a missing label file means no objects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk.data.classfile import read_class_list, read_yaml, yaml_class_names
from sdk.data.errors import DataError, data_error
from sdk.data.images import is_image, list_images
from sdk.data.layout import match_split, sort_splits, split_not_found

DATA_YAML_NAMES = ("data.yaml", "data.yml")
CLASS_LIST_NAMES = ("classes.txt", "obj.names")
YAML_SPLIT_KEYS = ("train", "val", "test", "minival")

ULTRALYTICS = "Ultralytics (data.yaml)"
ROBOFLOW_YAML = "Roboflow (data.yaml, <split>/images, <split>/labels)"
ROBOFLOW = "Roboflow (<split>/images, <split>/labels)"
FOLDERS = "folders (images/<split>, labels/<split>)"


@dataclass(frozen=True)
class YoloSplit:
    """One split: where its images come from.

    Attributes:
        name: Split name (a data.yaml key or a folder name).
        entries: Folders, ``.txt`` image lists or image files, as absolute paths.
        origin: How the entries were found, for ``sdk data check``.
        layout: :data:`ULTRALYTICS`, :data:`ROBOFLOW` or :data:`FOLDERS`.
        missing: Why the split cannot be read (a yaml path that does not exist), else None.
            Such a split is not listed, and reading it raises this error (Roboflow's
            data.yaml names a test split even when the export has none).
    """

    name: str
    entries: tuple[Path, ...]
    origin: str
    layout: str
    missing: DataError | None = None


def find_yaml(root: Path) -> Path | None:
    """Return the data yaml of ``root`` (which may be the yaml itself), or None."""
    if root.is_file():
        return root if root.suffix.lower() in (".yaml", ".yml") else None
    for name in DATA_YAML_NAMES:
        if (root / name).is_file():
            return root / name
    if not root.is_dir():
        return None
    candidates = [p for p in sorted(root.iterdir())
                  if p.suffix.lower() in (".yaml", ".yml") and p.is_file() and _has_names(p)]
    return candidates[0] if len(candidates) == 1 else None


def _has_names(path: Path) -> bool:
    """Cheap test that a yaml file is a dataset description (has a top-level names key)."""
    try:
        return any(line.startswith("names:") for line in path.read_text("utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def class_list_file(root: Path) -> Path | None:
    """Return the ``classes.txt``/``obj.names`` of ``root``, or None."""
    if not root.is_dir():
        return None
    return next((root / n for n in CLASS_LIST_NAMES if (root / n).is_file()), None)


def is_yolo(root: Path) -> bool:
    """Return True if ``root`` has a data yaml, or a class list and YOLO split folders."""
    if find_yaml(root) is not None:
        return True
    return class_list_file(root) is not None and bool(_convention_splits(root))


def read_classes(root: Path) -> list[str]:
    """Return the class names from the data yaml (or ``classes.txt``/``obj.names``).

    Raises:
        DataError: no class file exists or it is malformed.
    """
    yaml_file = find_yaml(root)
    if yaml_file is not None:
        return yaml_class_names(read_yaml(yaml_file), yaml_file)
    path = class_list_file(root)
    if path is None:
        raise data_error(root, None, f"no class names: expected one of "
                                     f"{', '.join(DATA_YAML_NAMES + CLASS_LIST_NAMES)}")
    return read_class_list(path)


def yolo_splits(root: Path) -> list[YoloSplit]:
    """Return every split of the YOLO dataset at ``root``: data.yaml keys, then folders.

    Raises:
        DataError: the yaml is malformed.
    """
    found: dict[str, YoloSplit] = {}
    yaml_file = find_yaml(root)
    folder = root if root.is_dir() else root.parent
    conventions = _convention_splits(folder)
    if yaml_file is not None:
        doc = read_yaml(yaml_file)
        base, base_note = _base(doc, yaml_file)
        for key, name in _split_keys(doc):
            found[name] = _yaml_split(doc[key], key, name, base, base_note, yaml_file,
                                      conventions)
    used = {entry for split in found.values() if split.missing is None
            for entry in split.entries}
    for name, (entry, layout) in conventions.items():
        if entry in used or match_split(name, list(found)) is not None:
            continue
        found[name] = YoloSplit(name, (entry,), "folder", layout)
    return [found[name] for name in sort_splits(found)]


def pick_split(root: Path, split: str) -> YoloSplit:
    """Return the split ``split`` means (aliases and dated names included).

    Raises:
        DataError: no such split.
    """
    found = yolo_splits(root)
    name = match_split(split, [s.name for s in found])
    if name is None:
        raise split_not_found(root, split, [s.name for s in found if s.missing is None])
    chosen = next(s for s in found if s.name == name)
    if chosen.missing is not None:
        raise chosen.missing
    return chosen


def _split_keys(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(yaml key, split name)`` pairs with a non-empty value."""
    keys = [(key, key) for key in YAML_SPLIT_KEYS if doc.get(key)]
    if doc.get("validation") and not doc.get("val"):
        keys.append(("validation", "val"))
    return keys


def _base(doc: dict[str, Any], yaml_file: Path) -> tuple[Path, str]:
    """Return the folder split paths are relative to, and a note when ``path`` was not used."""
    here = yaml_file.parent.absolute()
    value = doc.get("path")
    if not value:
        return here, ""
    written = Path(str(value)).expanduser()
    for candidate in ([written] if written.is_absolute() else [here / written, written]):
        if candidate.is_dir():
            return candidate.absolute(), ""
    return here, f"'path: {value}' not found, paths relative to {here}"


def _yaml_split(value: Any, key: str, name: str, base: Path, base_note: str, yaml_file: Path,
                conventions: dict[str, tuple[Path, str]]) -> YoloSplit:
    """Resolve one data.yaml split entry (a path or a list of paths)."""
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v for v in values):
        raise data_error(yaml_file, f"'{key}'", f"must be a path or a list of paths, "
                                                f"got {value!r}")
    entries, missing = [], []
    for text in values:
        path = _resolve(base, text)
        (entries if path is not None else missing).append(path or base / text)
    note = f"; {base_note}" if base_note else ""
    if not missing:
        return YoloSplit(name, tuple(entries), f"data.yaml '{key}'{note}", _layout(entries))
    stand_in = match_split(name, list(conventions))
    if stand_in is not None and not entries:
        entry, _ = conventions[stand_in]
        return YoloSplit(name, (entry,), f"data.yaml '{key}' names {missing[0]}, which does "
                                         f"not exist; using the folder {entry}",
                         _layout([entry]))
    error = data_error(yaml_file, f"'{key}'", f"path not found: {missing[0]}{note}")
    return YoloSplit(name, tuple(entries), f"data.yaml '{key}'", ULTRALYTICS, error)


def _layout(entries: list[Path]) -> str:
    """Roboflow's yaml points at ``<split>/images`` folders; anything else is Ultralytics'."""
    return ROBOFLOW_YAML if all(e.name == "images" for e in entries) else ULTRALYTICS


def _resolve(base: Path, text: str) -> Path | None:
    """Ultralytics' rule: ``base/text``, else ``base/text`` without a leading ``../``."""
    written = Path(text).expanduser()
    candidates = [written] if written.is_absolute() else [base / written]
    if text.startswith("../"):
        candidates.append(base / text[3:])
    return next((c.absolute() for c in candidates if c.exists()), None)


def _convention_splits(root: Path) -> dict[str, tuple[Path, str]]:
    """Split folders by convention: ``ROOT/<split>/images`` and ``ROOT/images/<split>``."""
    found: dict[str, tuple[Path, str]] = {}
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        if folder.name != "images" and (folder / "images").is_dir():
            found[folder.name] = ((folder / "images").absolute(), ROBOFLOW)
    if (root / "images").is_dir():
        for folder in sorted((root / "images").iterdir()):
            if folder.is_dir() and folder.name not in found:
                found[folder.name] = (folder.absolute(), FOLDERS)
    return found


def split_images(split: YoloSplit, base: Path) -> list[Path]:
    """Return the images of ``split`` (sorted, unique): folders walked, lists read.

    Raises:
        DataError: a list file names an image that does not exist or is not an image.
    """
    images: dict[Path, None] = {}
    for entry in split.entries:
        if entry.is_dir():
            found = list_images(entry)
        elif is_image(entry):
            found = [entry]
        else:
            found = _image_list(entry, base)
        images.update(dict.fromkeys(found))
    return sorted(images)


def _image_list(file: Path, base: Path) -> list[Path]:
    """Read a ``.txt`` list of image paths (one per line; relative to the list or ``base``)."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise data_error(file, None, f"not UTF-8 text ({exc})") from exc
    images = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        written = Path(text).expanduser()
        candidates = [written] if written.is_absolute() else [file.parent / written,
                                                               base / written]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise data_error(file, f"line {number}", f"image not found: {text} (looked in "
                                                     f"{file.parent} and {base})")
        if not is_image(path):
            raise data_error(file, f"line {number}", f"not an image file: {text}")
        images.append(Path(os.path.normpath(path.absolute())))
    return images


def label_path(image: Path) -> Path:
    """Ultralytics' rule: last ``/images/`` -> ``/labels/``, extension -> ``.txt``."""
    text = str(image)
    images_part, labels_part = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    if images_part in text:
        text = labels_part.join(text.rsplit(images_part, 1))
    return Path(text.rsplit(".", 1)[0] + ".txt")


def split_base(root: Path) -> Path:
    """The folder relative list entries fall back to: the yaml's ``path``, else the root."""
    yaml_file = find_yaml(root)
    if yaml_file is None:
        return root.absolute()
    return _base(read_yaml(yaml_file), yaml_file)[0]

