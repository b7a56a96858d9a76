"""Where the splits of a Pascal VOC dataset live, and where its images are.

* devkit: ``VOCdevkit/VOC20xx/`` (the root may be the folder holding ``VOCdevkit``,
  ``VOCdevkit`` itself, or one year's folder) with ``Annotations/<id>.xml``,
  ``JPEGImages/`` and the splits in ``ImageSets/Main/<split>.txt`` (one id per line; the
  per-class ``<class>_<split>.txt`` files are not splits). Without split files, split
  ``all`` holds every annotation. Several years read as one: split ``trainval`` of
  ``VOCdevkit`` is VOC2007's plus VOC2012's; ``VOC2007/test`` picks one year.
* Roboflow: ``ROOT/<split>/*.xml`` with the images beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sdk.data.errors import data_error
from sdk.data.images import is_image
from sdk.data.layout import count, find_splits, match_split, sort_splits, split_not_found

DEVKIT = "devkit (Annotations/, JPEGImages/, ImageSets/Main/<split>.txt)"
ROBOFLOW = "Roboflow (<split>/*.xml beside the images)"
ALL_SPLIT = "all"


@dataclass(frozen=True)
class VocItem:
    """One annotation file of a split and where to look for its image.

    Attributes:
        xml: The annotation file.
        images: The folder its image is in.
        by_id: Whether the image may also be found by the annotation's id (its file stem),
            as the devkit names ``JPEGImages/<id>.jpg``; otherwise only ``<filename>`` counts
            (or its stem, when it is written without an extension).
    """

    xml: Path
    images: ImageFolder
    by_id: bool = False


@dataclass(frozen=True)
class VocSplit:
    """One split: its annotation files, the layout and where it came from."""

    name: str
    items: tuple[VocItem, ...]
    layout: str
    source: str
    one_based: bool  # devkit coordinates are 1-based pixel indices


@dataclass
class ImageFolder:
    """An image folder indexed once by file name and by stem (case-insensitively as well)."""

    folder: Path
    _by_name: dict[str, Path] | None = field(default=None, repr=False)
    _by_stem: dict[str, Path] | None = field(default=None, repr=False)

    def find(self, filename: str, stem: str | None) -> Path | None:
        """Return the image ``filename`` names (also case-insensitively), else the image
        with stem ``stem`` when given, or None."""
        direct = self.folder / filename
        if direct.is_file():
            return direct
        if self._by_name is None:
            self._index()
        base = Path(filename.replace("\\", "/")).name
        for key in (base, base.lower()):
            if key in self._by_name:
                return self._by_name[key]
        if stem is None:
            return None
        return self._by_stem.get(stem) or self._by_stem.get(stem.lower())

    def _index(self) -> None:
        self._by_name, self._by_stem = {}, {}
        files = sorted(self.folder.iterdir()) if self.folder.is_dir() else []
        for path in files:
            if is_image(path) and path.is_file():
                for name, stem in ((path.name, path.stem), (path.name.lower(), path.stem.lower())):
                    self._by_name.setdefault(name, path)
                    self._by_stem.setdefault(stem, path)


def devkit_years(root: Path) -> list[Path]:
    """Return the devkit year folders (holding ``Annotations/``) of ``root``."""
    if not root.is_dir():
        return []
    if (root / "Annotations").is_dir():
        return [root]
    base = root / "VOCdevkit" if (root / "VOCdevkit").is_dir() else root
    return [d for d in sorted(base.iterdir()) if d.is_dir() and (d / "Annotations").is_dir()]


def _has_flat_split(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() == ".xml" for p in folder.iterdir())


def is_voc(root: Path) -> bool:
    """Return True if ``root`` holds a devkit or Roboflow VOC layout."""
    return bool(devkit_years(root)) or bool(find_splits(root, _has_flat_split))


def xml_files(folder: Path) -> list[Path]:
    """The ``.xml`` files of a folder, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml" and p.is_file())


def split_files(year: Path) -> dict[str, Path]:
    """Return ``split -> ImageSets/Main/<split>.txt`` of one year, without per-class files."""
    main = year / "ImageSets" / "Main"
    if not main.is_dir():
        return {}
    files = {p.stem: p for p in sorted(main.iterdir()) if p.suffix == ".txt" and p.is_file()}
    return {stem: path for stem, path in files.items()
            if not ("_" in stem and stem.rsplit("_", 1)[1] in files)}


def voc_split_names(root: Path) -> list[str]:
    """Return the split names of a VOC dataset."""
    years = devkit_years(root)
    if not years:
        return find_splits(root, _has_flat_split)
    return sort_splits(name for year in years for name in (split_files(year) or [ALL_SPLIT]))


def annotation_files(root: Path) -> list[Path]:
    """Every annotation file of the dataset (all splits, all years)."""
    years = devkit_years(root)
    if years:
        return [xml for year in years for xml in xml_files(year / "Annotations")]
    return [xml for name in find_splits(root, _has_flat_split) for xml in xml_files(root / name)]


def pick_split(root: Path, split: str) -> VocSplit:
    """Return the split ``split`` means (aliases and dated names included).

    Raises:
        DataError: no such split, or a split file names an id without an annotation file.
    """
    years = devkit_years(root)
    if not years:
        names = find_splits(root, _has_flat_split)
        name = match_split(split, names)
        if name is None:
            raise split_not_found(root, split, names)
        folder = ImageFolder(root / name)
        items = tuple(VocItem(xml, folder) for xml in xml_files(root / name))
        return VocSplit(name, items, ROBOFLOW, f"{root / name} ({count(len(items), 'xml file')})",
                        False)
    wanted_year, _, wanted = split.rpartition("/")
    chosen_years = [y for y in years if not wanted_year or y.name == wanted_year]
    names = voc_split_names(root)
    name = match_split(wanted, sort_splits(
        n for year in chosen_years for n in (split_files(year) or [ALL_SPLIT])))
    if not chosen_years or name is None:
        raise split_not_found(root, split, names)
    items, sources = [], []
    for year in chosen_years:
        listed = _year_items(year, name)
        if listed is not None:
            items.extend(listed[0])
            sources.append(listed[1])
    return VocSplit(name, tuple(items), DEVKIT, "; ".join(sources), True)


def _year_items(year: Path, name: str) -> tuple[list[VocItem], str] | None:
    """The items of split ``name`` in one devkit year, or None when it has no such split."""
    images = ImageFolder(year / "JPEGImages")
    files = split_files(year)
    if not files:
        if name != ALL_SPLIT:
            return None
        items = [VocItem(xml, images, True) for xml in xml_files(year / "Annotations")]
        return items, (f"{year / 'Annotations'} ({count(len(items), 'xml file')}, "
                       f"no ImageSets/Main)")
    if name not in files:
        return None
    list_file, items = files[name], []
    for number, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        xml = year / "Annotations" / f"{fields[0]}.xml"
        if not xml.is_file():
            raise data_error(list_file, f"line {number}", f"no annotation file for id "
                                                          f"'{fields[0]}' ({xml} not found)")
        items.append(VocItem(xml, images, True))
    return items, f"{list_file} ({count(len(items), 'id')}; images in {year / 'JPEGImages'})"


def class_file_folders(root: Path) -> list[Path]:
    """Folders a ``labels.txt``/``classes.txt`` may sit in: the root, VOCdevkit, the years."""
    folders = [root, root / "VOCdevkit", *devkit_years(root)]
    return [f for f in dict.fromkeys(folders) if f.is_dir()]
