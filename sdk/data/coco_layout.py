"""Where the splits of a COCO dataset live, and where its images are.

Three layouts are recognized:

* Roboflow: ``ROOT/<split>/_annotations.coco.json`` with the images beside it (also a
  single such split folder given as ``ROOT``);
* official: ``ROOT/annotations/instances_<split>.json`` (``instances_train2017.json`` is
  split ``train2017``, which ``train`` also selects) with the images in ``ROOT/<split>*/``,
  ``ROOT/images/<split>/``, ``ROOT/images/`` or wherever ``file_name`` points relative to
  ``ROOT``;
* one annotation file given directly; its images are looked up in ``--images DIR`` when
  given, else beside the file and in the official places around it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sdk.data.errors import data_error
from sdk.data.layout import match_split, sort_splits, split_not_found

ANNOTATIONS = "_annotations.coco.json"
OFFICIAL_FOLDER = "annotations"
OFFICIAL_PREFIX = "instances_"

ROBOFLOW = "Roboflow (<split>/_annotations.coco.json)"
OFFICIAL = "official (annotations/instances_<split>.json)"
SINGLE_FILE = "single annotation file"


@dataclass(frozen=True)
class CocoSplit:
    """One split: its annotation file and the folders its ``file_name``s are relative to.

    Attributes:
        name: Split name (``train2017`` for ``instances_train2017.json``).
        file: The annotation JSON.
        image_dirs: Folders tried in order for each image's ``file_name``.
        layout: Which layout it was found in (:data:`ROBOFLOW`, :data:`OFFICIAL`, ...).
    """

    name: str
    file: Path
    image_dirs: tuple[Path, ...]
    layout: str


def is_coco(root: Path) -> bool:
    """Return True if ``root`` is a COCO annotation file or a folder with a COCO layout."""
    if root.is_file():
        return root.suffix.lower() == ".json"
    return (root / ANNOTATIONS).is_file() or bool(_official_files(root)) or any(
        (d / ANNOTATIONS).is_file() for d in _subdirs(root))


def coco_splits(root: Path, images: Path | None = None) -> list[CocoSplit]:
    """Return every split of the COCO dataset at ``root`` (a folder or one JSON file).

    ``images`` overrides where image files are looked up.

    Raises:
        DataError: ``images`` is given but is not a folder.
    """
    if images is not None and not images.is_dir():
        raise data_error(images, None, "images folder not found")
    if root.is_file():
        return [_single_file(root, images)]
    if (root / ANNOTATIONS).is_file():  # one Roboflow split folder given as the root
        return [CocoSplit(root.name, root / ANNOTATIONS, _dirs(images, [root]), ROBOFLOW)]
    found: dict[str, CocoSplit] = {}
    for file in _official_files(root):
        name = file.stem[len(OFFICIAL_PREFIX):]
        found[name] = CocoSplit(name, file, _dirs(images, _official_dirs(root, name)), OFFICIAL)
    for folder in _subdirs(root):
        if (folder / ANNOTATIONS).is_file() and folder.name not in found:
            found[folder.name] = CocoSplit(folder.name, folder / ANNOTATIONS,
                                           _dirs(images, [folder]), ROBOFLOW)
    return [found[name] for name in sort_splits(found)]


def pick_split(root: Path, split: str, images: Path | None = None) -> CocoSplit:
    """Return the split ``split`` means (aliases and dated names included).

    A single annotation file is the one split there is, whatever ``split`` says.

    Raises:
        DataError: no such split.
    """
    found = coco_splits(root, images)
    if root.is_file():
        return found[0]
    name = match_split(split, [s.name for s in found])
    if name is None:
        raise split_not_found(root, split, [s.name for s in found])
    return next(s for s in found if s.name == name)


def _subdirs(root: Path) -> list[Path]:
    return sorted(d for d in root.iterdir() if d.is_dir()) if root.is_dir() else []


def _official_files(root: Path) -> list[Path]:
    folder = root / OFFICIAL_FOLDER
    return sorted(folder.glob(f"{OFFICIAL_PREFIX}*.json")) if folder.is_dir() else []


def _official_dirs(root: Path, name: str) -> list[Path]:
    """Folders the images of split ``name`` may be in, most specific first."""
    dated = [d for d in _subdirs(root) if d.name.startswith(name) and d.name != name]
    return [root / name, *dated, root / "images" / name, root / "images", root]


def _single_file(file: Path, images: Path | None) -> CocoSplit:
    """Describe one annotation file given directly."""
    if file.suffix.lower() != ".json":
        raise data_error(file, None, "not a COCO annotation file (expected a .json file)")
    if file.stem.startswith(OFFICIAL_PREFIX):
        name = file.stem[len(OFFICIAL_PREFIX):]
    else:
        name = file.parent.name if file.name == ANNOTATIONS else file.stem
    # annotations/instances_x.json sits one level below the root that holds the images
    base = file.parent.parent if file.parent.name == OFFICIAL_FOLDER else file.parent
    return CocoSplit(name, file, _dirs(images, [file.parent, *_official_dirs(base, name)]),
                     SINGLE_FILE)


def _dirs(images: Path | None, candidates: list[Path]) -> tuple[Path, ...]:
    """The explicit images folder, else the existing candidates without repeats."""
    if images is not None:
        return (images.absolute(),)
    unique: dict[Path, None] = {}
    for folder in candidates:
        if folder.is_dir():
            unique.setdefault(folder.absolute(), None)
    return tuple(unique)


@dataclass
class ImageFinder:
    """Resolve ``file_name`` entries against a split's image folders.

    Tries the path as written (absolute, or relative to each folder), then its base name in
    each folder, so file names written on another machine still resolve. The folder that
    answered last is tried first: a split's images are nearly always in one place.
    """

    dirs: tuple[Path, ...]
    used: Counter = field(default_factory=Counter)

    def find(self, file_name: str) -> Path | None:
        """Return the image file ``file_name`` refers to, or None."""
        written = Path(file_name.replace("\\", "/"))
        if written.is_absolute() and written.is_file():
            self.used[written.parent] += 1
            return written
        tries = [] if written.is_absolute() else [written]
        if written.name != str(written):
            tries.append(Path(written.name))
        for relative in tries:
            for folder in self._ordered():
                path = folder / relative
                if path.is_file():
                    self.used[folder] += 1
                    return path
        return None

    def _ordered(self) -> list[Path]:
        best = next((d for d, _ in self.used.most_common() if d in self.dirs), None)
        if best is None:
            return list(self.dirs)
        return [best, *(d for d in self.dirs if d != best)]

    def looked_in(self) -> str:
        """The folders tried, for error messages."""
        return ", ".join(str(d) for d in self.dirs) or "no folder"

    def summary(self) -> str:
        """Where the images were found, most used first."""
        return ", ".join(f"{folder} ({count})" for folder, count in self.used.most_common())
