"""Pascal VOC format: read the devkit and Roboflow layouts (:mod:`sdk.data.voc_layout`), write both.

Class order comes from a ``labels.txt`` (or ``classes.txt``) when present, else it is the
sorted set of object names over the whole dataset, so every split gets the same indices
(for the 20 VOC classes that is VOC's own order).

``difficult`` objects become the sample's ignore regions (not training targets; ignored
in evaluation as the VOC protocol does); ``truncated``, ``occluded`` and ``pose`` are
informational. Coordinates may be floats. Devkit coordinates are 1-based pixel indices
(``xmin = 1`` is the first column), so ``xmin``/``ymin`` are shifted by one on reading and
writing, as Detectron2 does; the Roboflow layout is read and written as given.
"""

from __future__ import annotations

import functools
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from sdk.atomic import atomic_dir, write_text_atomic
from sdk.data.classfile import read_class_list
from sdk.data.dataset import Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, is_image, place_image
from sdk.data.layout import check_layout, count, format_number, output_names
from sdk.data.voc_layout import (
    VocItem,
    annotation_files,
    class_file_folders,
    is_voc,
    pick_split,
    voc_split_names,
)

CLASS_LIST_NAMES = ("labels.txt", "classes.txt")
_BOX_TAGS = ("xmin", "ymin", "xmax", "ymax")

# (name, (xmin, ymin, xmax, ymax), "object N of <filename>", difficult) per object
VocObject = tuple[str, tuple[float, float, float, float], str, bool]


def detect(root: Path) -> bool:
    """Return True if ``root`` looks like a VOC dataset."""
    return is_voc(root)


def splits(root: Path) -> list[str]:
    """Return the split names of a VOC dataset."""
    return voc_split_names(root)


def read_classes(root: Path) -> list[str]:
    """Return the class list: the class file if present, else sorted names of all objects."""
    for folder in class_file_folders(root):
        for name in CLASS_LIST_NAMES:
            if (folder / name).is_file():
                return read_class_list(folder / name)
    return sorted({obj[0] for file in annotation_files(root) for obj in _parse(file)[2]})


def read(root: Path, split: str) -> Dataset:
    """Read one split of a VOC dataset.

    Raises:
        DataError: the split or an image is missing, or an xml file is invalid.
    """
    chosen = pick_split(root, split)
    classes = read_classes(root)
    index_of = {name: i for i, name in enumerate(classes)}
    samples = [_sample(item, image_id, index_of, classes, chosen.one_based)
               for image_id, item in enumerate(chosen.items)]
    difficult = sum(len(s.ignore_boxes) for s in samples)
    source = chosen.source + (f"; {count(difficult, 'difficult object')}" if difficult
                             else "")
    return Dataset(tuple(classes), tuple(samples), root.absolute(), split, "voc",
                   layout=chosen.layout, source=source)


def _sample(item: VocItem, image_id: int, index_of: dict[str, int], classes: list[str],
            one_based: bool) -> Sample:
    """Read one annotation file and check it against its image."""
    file = item.xml
    filename, size, objects = _parse(file)
    stem = file.stem if item.by_id else (None if is_image(Path(filename)) else filename)
    path = item.images.find(filename, stem) or item.images.folder / filename
    width, height = image_size(path.absolute(), file, f"<filename> {filename}")
    if size is not None and size != (width, height):
        raise data_error(file, f"<size> of {filename}", f"says {size[0]}x{size[1]} but "
                                                        f"the image is {width}x{height}")
    shift = 1.0 if one_based else 0.0
    boxes, labels, hard_boxes, hard_labels = [], [], [], []
    for name, (x1, y1, x2, y2), where, difficult in objects:
        if name not in index_of:
            raise data_error(file, where, f"unknown class '{name}' (known: {classes})")
        box = check_box((x1 - shift, y1 - shift, x2, y2), width, height, file, where)
        (hard_boxes if difficult else boxes).append(box)
        (hard_labels if difficult else labels).append(index_of[name])
    return Sample(path.absolute(), width, height, boxes, labels, image_id, hard_boxes,
                  hard_labels)


def _parse(file: Path) -> tuple[str, tuple[int, int] | None, list[VocObject]]:
    """Return ``(filename, (width, height) or None, objects)`` of one annotation file."""
    stat = file.stat()
    return _parse_cached(str(file), stat.st_mtime_ns, stat.st_size)


# Class discovery and the split read parse the same files: parse each version once.
@functools.lru_cache(maxsize=65536)
def _parse_cached(path: str, mtime_ns: int, file_size: int,
                  ) -> tuple[str, tuple[int, int] | None, list[VocObject]]:
    del mtime_ns, file_size  # cache key only: a changed file is parsed again
    file = Path(path)
    try:
        # Python's expat refuses entity-expansion bombs, so plain ElementTree is safe here.
        tree = ET.parse(file)
    except ET.ParseError as exc:
        line, column = exc.position
        raise data_error(file, f"line {line}, column {column}", f"malformed XML ({exc})") from exc
    top = tree.getroot()
    filename = _text(top, "filename", file, "<annotation>")
    objects = []
    for number, obj in enumerate(top.iter("object")):
        where = f"object {number} of {filename}"
        bndbox = obj.find("bndbox")
        if bndbox is None:
            raise data_error(file, where, "missing tag <bndbox>")
        coords = tuple(_number(bndbox, tag, file, where) for tag in _BOX_TAGS)
        objects.append((_text(obj, "name", file, where), coords, where,
                        _flag(obj, "difficult", file, where)))
    return filename, _size(top, file), objects


def _text(node: ET.Element, tag: str, file: Path, where: str) -> str:
    """Return the stripped text of a required child tag."""
    child = node.find(tag)
    if child is None or not (child.text or "").strip():
        raise data_error(file, where, f"missing tag <{tag}>")
    return child.text.strip()


def _number(node: ET.Element, tag: str, file: Path, where: str) -> float:
    """Return a required numeric child tag."""
    text = _text(node, tag, file, where)
    try:
        return float(text)
    except ValueError as exc:
        raise data_error(file, where, f"<{tag}> is not a number: {text!r}") from exc


def _flag(node: ET.Element, tag: str, file: Path, where: str) -> bool:
    """Return an optional 0/1 (or true/false) child tag; absent or empty means False."""
    child = node.find(tag)
    text = (child.text or "").strip().lower() if child is not None else ""
    if text in ("", "0", "false", "no"):
        return False
    if text in ("1", "true", "yes"):
        return True
    raise data_error(file, where, f"<{tag}> must be 0 or 1, got {text!r}")


def _size(top: ET.Element, file: Path) -> tuple[int, int] | None:
    """Return the ``<size>`` width/height, or None when absent or zero (some tools write 0)."""
    size = top.find("size")
    if size is None or size.find("width") is None or size.find("height") is None:
        return None
    width = int(_number(size, "width", file, "<size>"))
    height = int(_number(size, "height", file, "<size>"))
    return (width, height) if width > 0 and height > 0 else None


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False,
          layout: str = "roboflow") -> Path:
    """Write ``ds`` as split ``split`` of a VOC dataset in ``root``, and ``root/labels.txt``.

    ``layout`` ``roboflow``: ``root/<split>/*.xml`` beside the images (the folder appears
    atomically); ``standard``: the contents of a devkit year folder (``Annotations/``,
    ``JPEGImages/``, ``ImageSets/Main/<split>.txt``, written last). Ignore regions are
    written as ``difficult`` objects.

    Raises:
        DataError: ``root`` already has a class list with other classes, the split exists
            and ``overwrite`` is False, or ``layout`` is unknown.
    """
    check_layout(layout)
    root = Path(root)
    labels_file = root / CLASS_LIST_NAMES[0]
    if labels_file.is_file() and tuple(read_class_list(labels_file)) != tuple(ds.classes):
        raise data_error(labels_file, None, f"has other classes than {list(ds.classes)}")
    if layout == "roboflow":
        target = root / split
        with atomic_dir(target, overwrite) as tmp:
            for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
                place_image(sample.image_path, tmp / name)
                _write_xml(tmp / f"{Path(name).stem}.xml", sample, name, split, ds.classes, 0)
    else:
        target = _write_devkit(ds, root, split, overwrite)
    # The class file keeps the class order (and classes without objects) across a round trip.
    write_text_atomic(labels_file, "".join(f"{name}\n" for name in ds.classes))
    return target


def _write_devkit(ds: Dataset, root: Path, split: str, overwrite: bool) -> Path:
    """Write one split into a devkit year folder; returns its ``ImageSets/Main`` list file."""
    list_file = root / "ImageSets" / "Main" / f"{split}.txt"
    if list_file.exists() and not overwrite:
        raise data_error(list_file, None, "already exists and is not empty (pass overwrite)")
    images, annotations = root / "JPEGImages", root / "Annotations"
    images.mkdir(parents=True, exist_ok=True)
    annotations.mkdir(parents=True, exist_ok=True)
    stems = {p.stem: p for p in images.iterdir()}
    created: list[Path] = []
    try:
        ids = []
        for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
            name = _devkit_name(name, split, sample.image_path, stems)
            stem = Path(name).stem
            if stem not in stems:
                place_image(sample.image_path, images / name)
                created.append(images / name)
                stems[stem] = images / name
            xml = annotations / f"{stem}.xml"
            if not xml.exists():
                created.append(xml)
            _write_xml(xml, sample, name, "JPEGImages", ds.classes, 1)
            ids.append(stem)
        write_text_atomic(list_file, "".join(f"{i}\n" for i in ids))
    except BaseException:
        for path in created:  # what this call added; shared files of other splits stay
            path.unlink(missing_ok=True)
        raise
    return list_file


def _devkit_name(name: str, split: str, source: Path, stems: dict[str, Path]) -> str:
    """Return a file name whose stem is free in JPEGImages, or already holds this image."""
    candidate, number = name, 0
    while Path(candidate).stem in stems:
        if _same_file(stems[Path(candidate).stem], source):
            return stems[Path(candidate).stem].name
        number += 1
        candidate = f"{split}{number if number > 1 else ''}_{name}"
    return candidate


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _write_xml(path: Path, sample: Sample, name: str, folder: str, classes: tuple[str, ...],
               shift: int) -> None:
    """Write the ``<annotation>`` of one image; ``shift`` 1 writes 1-based pixel indices."""
    top = ET.Element("annotation")
    ET.SubElement(top, "folder").text = folder
    ET.SubElement(top, "filename").text = name
    size = ET.SubElement(top, "size")
    for tag, value in (("width", sample.width), ("height", sample.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    groups = ((sample.boxes, sample.labels, "0"), (sample.ignore_boxes, sample.ignore_labels, "1"))
    for boxes, labels, difficult in groups:
        for box, label in zip(boxes.tolist(), labels.tolist(), strict=True):
            obj = ET.SubElement(top, "object")
            ET.SubElement(obj, "name").text = classes[label]
            ET.SubElement(obj, "pose").text = "Unspecified"
            for tag, value in (("truncated", "0"), ("difficult", difficult), ("occluded", "0")):
                ET.SubElement(obj, tag).text = value
            bndbox = ET.SubElement(obj, "bndbox")
            x1, y1, x2, y2 = box
            for tag, value in zip(_BOX_TAGS, (x1 + shift, y1 + shift, x2, y2), strict=True):
                ET.SubElement(bndbox, tag).text = format_number(value)
    tree = ET.ElementTree(top)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=False)
