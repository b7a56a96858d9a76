"""COCO detection format: read every common layout (see :mod:`sdk.data.coco_layout`), write two.

Category ids may be any integers (they map to class indices in id order); ``iscrowd``
objects become the sample's ignore regions (not training targets; crowd regions in
evaluation, as in pycocotools); images without annotations are kept; boxes may be
floats; polygons, RLE masks and extra keys are accepted (a missing ``bbox`` is derived
from the polygon); a missing image ``width``/``height`` is read from the image file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sdk.atomic import atomic_dir, write_text_atomic
from sdk.data.coco_layout import (
    ANNOTATIONS,
    OFFICIAL_FOLDER,
    OFFICIAL_PREFIX,
    CocoSplit,
    ImageFinder,
    coco_splits,
    is_coco,
    pick_split,
)
from sdk.data.dataset import Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, place_image
from sdk.data.layout import check_layout, count, output_names

__all__ = ["ANNOTATIONS", "ImageEntry", "coco_json", "detect", "read", "splits", "write"]

# One validated annotation: (image id, x, y, w, h, class index, crowd, where for errors)
_Annotation = tuple[int, float, float, float, float, int, bool, str]


def detect(root: Path) -> bool:
    """Return True if ``root`` is a COCO annotation file or holds a COCO layout."""
    return is_coco(root)


def splits(root: Path) -> list[str]:
    """Return the split names of a COCO dataset."""
    return [s.name for s in coco_splits(root)]


def read(root: Path, split: str, images: Path | None = None) -> Dataset:
    """Read one split of a COCO dataset (folder in any layout, or one annotation file).

    ``images`` is the folder image ``file_name``s are relative to, when not the usual place.

    Raises:
        DataError: the split, the JSON or an image is missing or inconsistent.
    """
    chosen = pick_split(root, split, images)
    file = chosen.file
    doc = _load_json(file)
    classes, index_of = _categories(doc, file)
    entries = _images(doc, file)
    per_image: dict[int, list[_Annotation]] = {i: [] for i in entries}
    for ann in _section(doc, "annotations", file):
        parsed = _annotation(ann, file, entries, index_of)
        per_image[parsed[0]].append(parsed)
    finder = ImageFinder(chosen.image_dirs)
    samples = []
    for image_id, (name, width, height) in entries.items():
        where = f"image id {image_id} ({name})"
        path = finder.find(name)
        if path is None:
            raise data_error(file, where, f"image file not found (looked for {name} in "
                                          f"{finder.looked_in()})")
        actual = image_size(path.absolute(), file, where)
        if width is not None and actual != (width, height):
            raise data_error(file, where, f"annotation says {width}x{height} but the image "
                                          f"is {actual[0]}x{actual[1]}")
        samples.append(_sample(path.absolute(), actual, image_id, per_image[image_id], file))
    crowd = sum(len(s.ignore_boxes) for s in samples)
    objects = count(sum(len(s.boxes) for s in samples), "object")
    source = (f"{file} ({count(len(samples), 'image')}, {objects}"
              f"{f', {crowd} crowd' if crowd else ''}); images in {finder.summary() or '-'}")
    return Dataset(tuple(classes), tuple(samples), _root_of(root, chosen), split, "coco",
                   layout=chosen.layout, source=source)


def _root_of(root: Path, chosen: CocoSplit) -> Path:
    """The dataset folder: ``root`` itself, or the folder around a single annotation file."""
    if root.is_dir():
        return root.absolute()
    folder = chosen.file.parent
    return (folder.parent if folder.name == OFFICIAL_FOLDER else folder).absolute()


def _sample(path: Path, size: tuple[int, int], image_id: int, found: list[_Annotation],
            file: Path) -> Sample:
    """Check the boxes of one image against its size; split targets from crowd regions."""
    width, height = size
    boxes, labels, crowd_boxes, crowd_labels = [], [], [], []
    for _, x, y, w, h, label, crowd, where in found:
        box = check_box((x, y, x + w, y + h), width, height, file, where)
        (crowd_boxes if crowd else boxes).append(box)
        (crowd_labels if crowd else labels).append(label)
    return Sample(path, width, height, boxes, labels, image_id, crowd_boxes, crowd_labels)


def _load_json(file: Path) -> dict[str, Any]:
    """Parse the annotation file; syntax errors name the line and column."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise data_error(file, f"line {exc.lineno}, column {exc.colno}",
                         f"invalid JSON ({exc.msg})") from exc
    except UnicodeDecodeError as exc:
        raise data_error(file, None, f"not UTF-8 text ({exc})") from exc
    if not isinstance(doc, dict):
        raise data_error(file, None, "top level must be a JSON object")
    return doc


def _section(doc: dict[str, Any], key: str, file: Path) -> list[dict[str, Any]]:
    """Return ``doc[key]`` checked to be a list of objects."""
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise data_error(file, f"'{key}'", "missing or not a list of objects")
    return value


def _categories(doc: dict[str, Any], file: Path) -> tuple[list[str], dict[int, int]]:
    """Map category ids (in id order) to 0..C-1, skipping a supercategory-only entry."""
    cats = _section(doc, "categories", file)
    for cat in cats:
        if not _is_int(cat.get("id")) or not isinstance(cat.get("name"), str):
            raise data_error(file, f"category {cat}", "needs an integer 'id' and a 'name'")
    used = {a.get("category_id") for a in _section(doc, "annotations", file)}
    kept = [c for c in cats if not _supercategory_only(c, cats, used)]
    kept.sort(key=lambda c: c["id"])
    ids = [c["id"] for c in kept]
    if len(set(ids)) != len(ids):
        raise data_error(file, "'categories'", f"duplicate category ids in {ids}")
    return [c["name"] for c in kept], {cid: i for i, cid in enumerate(ids)}


def _supercategory_only(cat: dict[str, Any], cats: list[dict[str, Any]], used: set) -> bool:
    """Spot Roboflow's project-named category (usually id 0) that only parents the classes.

    It is skipped only while no annotation uses it, so real data never loses a class.
    """
    return cat["id"] not in used and any(
        other is not cat and other.get("supercategory") == cat["name"] for other in cats)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dimension(value: Any) -> int | None:
    """A positive whole width/height (``640`` or ``640.0``), else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if _is_int(value) and value > 0 else None


def _images(doc: dict[str, Any], file: Path) -> dict[int, tuple[str, int | None, int | None]]:
    """Return ``image id -> (file_name, width, height)`` in file order (sizes may be None)."""
    images: dict[int, tuple[str, int | None, int | None]] = {}
    for entry in _section(doc, "images", file):
        image_id, name = entry.get("id"), entry.get("file_name")
        where = f"image id {image_id} ({name})"
        if not _is_int(image_id) or not isinstance(name, str) or not name:
            raise data_error(file, where, "needs an integer 'id' and a 'file_name'")
        if image_id in images:
            raise data_error(file, where, "duplicate image id")
        width, height = entry.get("width"), entry.get("height")
        if width is None and height is None:  # some tools leave the size to the image
            images[image_id] = (name, None, None)
            continue
        if _dimension(width) is None or _dimension(height) is None:
            raise data_error(file, where, f"needs positive integer width/height, got "
                                          f"{width!r}x{height!r}")
        images[image_id] = (name, _dimension(width), _dimension(height))
    return images


def _annotation(ann: dict[str, Any], file: Path,
                images: dict[int, tuple[str, int | None, int | None]],
                index_of: dict[int, int]) -> _Annotation:
    """Validate one annotation's references and box shape (not yet against the image)."""
    image_id, cat_id = ann.get("image_id"), ann.get("category_id")
    if image_id not in images:
        raise data_error(file, f"annotation id {ann.get('id')}", f"unknown image id {image_id!r}")
    where = f"annotation id {ann.get('id')} (image id {image_id}, {images[image_id][0]})"
    if cat_id not in index_of:
        raise data_error(file, where, f"unknown category id {cat_id!r} "
                                      f"(known: {sorted(index_of)})")
    bbox = ann.get("bbox")
    if bbox is None or bbox == []:
        bbox = _polygon_bbox(ann.get("segmentation"), file, where)
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)):
        raise data_error(file, where, f"'bbox' must be 4 numbers [x, y, w, h], got {bbox!r}")
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        raise data_error(file, where, f"box [{x:g}, {y:g}, {x + w:g}, {y + h:g}] has a "
                                      f"non-positive width or height")
    return image_id, x, y, w, h, index_of[cat_id], bool(ann.get("iscrowd", 0)), where


def _polygon_bbox(segmentation: Any, file: Path, where: str) -> list[float]:
    """Return ``[x, y, w, h]`` around polygon segmentation ``[[x1, y1, x2, y2, ...], ...]``."""
    points = [v for polygon in segmentation for v in polygon] if isinstance(
        segmentation, list) and all(isinstance(p, list) for p in segmentation) else []
    if not points or len(points) % 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in points):
        raise data_error(file, where, "no 'bbox', and no polygon 'segmentation' to derive "
                                      "it from")
    xs, ys = points[0::2], points[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


# (file name, width, height, boxes [K, 4] xyxy, labels [K]) of one image
ImageEntry = tuple[str, int, int, Any, Any]


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False,
          layout: str = "roboflow") -> Path:
    """Write ``ds`` as split ``split`` of a COCO dataset in ``root``.

    ``layout`` ``roboflow``: ``root/<split>/_annotations.coco.json`` beside the images;
    ``standard``: ``root/annotations/instances_<split>.json`` and the images in
    ``root/<split>/``. Category ids are 1..C in class order; ignore regions are written
    as ``iscrowd`` annotations. The split appears atomically (its annotation file last).

    Raises:
        DataError: the split exists and ``overwrite`` is False, or ``layout`` is unknown.
    """
    check_layout(layout)
    root = Path(root)
    target = root / split
    index = root / OFFICIAL_FOLDER / f"{OFFICIAL_PREFIX}{split}.json"
    if layout == "standard" and index.exists() and not overwrite:
        raise data_error(index, None, "already exists (pass overwrite)")
    info = {"description": f"written by sdk.data from {ds.format} ({ds.split})"}
    with atomic_dir(target, overwrite) as tmp:
        entries, ignored = [], []
        for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
            place_image(sample.image_path, tmp / name)
            entries.append((name, sample.width, sample.height, sample.boxes, sample.labels))
            ignored.append((sample.ignore_boxes, sample.ignore_labels))
        text = coco_json(ds.classes, entries, info, ignored)
        if layout == "roboflow":
            (tmp / ANNOTATIONS).write_text(text, encoding="utf-8")
    if layout == "standard":
        write_text_atomic(index, text)
    return target


def coco_json(classes: tuple[str, ...] | list[str], entries: list[ImageEntry],
              info: dict[str, Any], ignored: Sequence[tuple[Any, Any]] | None = None) -> str:
    """Render a compact COCO detection document; image ids are 0..N-1, category ids 1..C.

    ``ignored`` holds one ``(boxes, labels)`` pair of crowd regions per entry.
    """
    images, annotations = [], []
    for image_id, (name, width, height, boxes, labels) in enumerate(entries):
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        groups = [(boxes, labels, 0)]
        if ignored is not None:
            groups.append((*ignored[image_id], 1))
        for group_boxes, group_labels, crowd in groups:
            for box, label in zip(np.asarray(group_boxes).reshape(-1, 4).tolist(),
                                  np.asarray(group_labels).reshape(-1).tolist(), strict=True):
                annotations.append(_annotation_record(len(annotations), image_id, box,
                                                      int(label), crowd))
    doc = {
        "info": info,
        "licenses": [],
        "categories": [{"id": i + 1, "name": name, "supercategory": "none"}
                       for i, name in enumerate(classes)],
        "images": images,
        "annotations": annotations,
    }
    return json.dumps(doc, separators=(",", ":"))


def _annotation_record(ann_id: int, image_id: int, box: list[float], label: int,
                       crowd: int = 0) -> dict[str, Any]:
    """Build one COCO annotation; ``area`` is the box area, as Roboflow's bbox exports do."""
    x1, y1, x2, y2 = (round(float(v), 2) for v in box)
    w, h = round(x2 - x1, 2), round(y2 - y1, 2)
    return {"id": ann_id, "image_id": image_id, "category_id": label + 1,
            "bbox": [x1, y1, w, h], "area": round(w * h, 2), "segmentation": [],
            "iscrowd": crowd}
