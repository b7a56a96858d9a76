"""Pascal VOC layout as Roboflow exports it: ``ROOT/<split>/*.xml`` with images beside.

Class order comes from ``ROOT/labels.txt`` (or ``classes.txt``) when present, else it is
the sorted set of object names over all splits, so every split gets the same indices.
Coordinates are read and written as given (no VOC 1-based shift), like Roboflow does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from sdk.atomic import atomic_dir, write_text_atomic
from sdk.data.classfile import read_class_list
from sdk.data.dataset import Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, place_image
from sdk.data.layout import find_splits, format_number, output_names, resolve_split

CLASS_LIST_NAMES = ("labels.txt", "classes.txt")
_BOX_TAGS = ("xmin", "ymin", "xmax", "ymax")

# (name, (xmin, ymin, xmax, ymax), "object N") per object of one xml file
VocObject = tuple[str, tuple[float, float, float, float], str]


def _has_split(folder: Path) -> bool:
    return folder.is_dir() and any(p.suffix.lower() == ".xml" for p in folder.iterdir())


def detect(root: Path) -> bool:
    """Return True if ``root`` looks like a VOC dataset."""
    return bool(find_splits(root, _has_split))


def splits(root: Path) -> list[str]:
    """Return the split folder names of a VOC dataset."""
    return find_splits(root, _has_split)


def _xml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")


def read_classes(root: Path) -> list[str]:
    """Return the class list: the class file if present, else sorted names of all splits."""
    for name in CLASS_LIST_NAMES:
        if (root / name).is_file():
            return read_class_list(root / name)
    names = {obj[0] for split in splits(root) for file in _xml_files(root / split)
             for obj in _parse(file)[2]}
    return sorted(names)


def read(root: Path, split: str) -> Dataset:
    """Read one split of a VOC dataset.

    Raises:
        DataError: the split or an image is missing, or an xml file is invalid.
    """
    folder = resolve_split(root, split, _has_split)
    classes = read_classes(root)
    index_of = {name: i for i, name in enumerate(classes)}
    samples = []
    for image_id, file in enumerate(_xml_files(folder)):
        filename, size, objects = _parse(file)
        path = (folder / filename).absolute()
        width, height = image_size(path, file, f"<filename> {filename}")
        if size is not None and size != (width, height):
            raise data_error(file, f"<size> of {filename}", f"says {size[0]}x{size[1]} but "
                                                            f"the image is {width}x{height}")
        boxes, labels = [], []
        for name, box, where in objects:
            if name not in index_of:
                raise data_error(file, where, f"unknown class '{name}' (known: {classes})")
            boxes.append(check_box(box, width, height, file, where))
            labels.append(index_of[name])
        samples.append(Sample(path, width, height, boxes, labels, image_id))
    return Dataset(tuple(classes), tuple(samples), root.absolute(), split, "voc")


def _parse(file: Path) -> tuple[str, tuple[int, int] | None, list[VocObject]]:
    """Return ``(filename, (width, height) or None, objects)`` of one annotation file."""
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
        objects.append((_text(obj, "name", file, where), coords, where))
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


def _size(top: ET.Element, file: Path) -> tuple[int, int] | None:
    """Return the ``<size>`` width/height, or None when absent or zero (some tools write 0)."""
    size = top.find("size")
    if size is None or size.find("width") is None or size.find("height") is None:
        return None
    width = int(_number(size, "width", file, "<size>"))
    height = int(_number(size, "height", file, "<size>"))
    return (width, height) if width > 0 and height > 0 else None


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/*.xml`` + images, and ``root/labels.txt``.

    Raises:
        DataError: ``root`` already has a class list with different classes.
    """
    root = Path(root)
    labels_file = root / CLASS_LIST_NAMES[0]
    if labels_file.is_file() and tuple(read_class_list(labels_file)) != tuple(ds.classes):
        raise data_error(labels_file, None, f"has other classes than {list(ds.classes)}")
    target = root / split
    with atomic_dir(target, overwrite) as tmp:
        for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
            place_image(sample.image_path, tmp / name)
            tree = ET.ElementTree(_annotation_xml(sample, name, split, ds.classes))
            ET.indent(tree)
            tree.write(tmp / f"{Path(name).stem}.xml", encoding="utf-8", xml_declaration=False)
    # The class file keeps the class order (and classes without objects) across a round trip.
    write_text_atomic(labels_file, "".join(f"{name}\n" for name in ds.classes))
    return target


def _annotation_xml(sample: Sample, name: str, folder: str,
                    classes: tuple[str, ...]) -> ET.Element:
    """Build the ``<annotation>`` element of one image."""
    top = ET.Element("annotation")
    ET.SubElement(top, "folder").text = folder
    ET.SubElement(top, "filename").text = name
    size = ET.SubElement(top, "size")
    for tag, value in (("width", sample.width), ("height", sample.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    for box, label in zip(sample.boxes.tolist(), sample.labels.tolist(), strict=True):
        obj = ET.SubElement(top, "object")
        ET.SubElement(obj, "name").text = classes[label]
        for tag in ("pose", "truncated", "difficult", "occluded"):
            ET.SubElement(obj, tag).text = "Unspecified" if tag == "pose" else "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(_BOX_TAGS, box, strict=True):
            ET.SubElement(bndbox, tag).text = format_number(value)
    return top
