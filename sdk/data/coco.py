"""COCO layout as Roboflow exports it: ``ROOT/<split>/_annotations.coco.json`` + images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sdk.atomic import atomic_dir
from sdk.data.dataset import Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, place_image
from sdk.data.layout import find_splits, output_names, resolve_split

ANNOTATIONS = "_annotations.coco.json"


def _has_split(folder: Path) -> bool:
    return (folder / ANNOTATIONS).is_file()


def detect(root: Path) -> bool:
    """Return True if ``root`` looks like a COCO dataset."""
    return bool(find_splits(root, _has_split))


def splits(root: Path) -> list[str]:
    """Return the split folder names of a COCO dataset."""
    return find_splits(root, _has_split)


def read(root: Path, split: str) -> Dataset:
    """Read one split of a COCO dataset.

    Raises:
        DataError: the split, the JSON or an image is missing or inconsistent.
    """
    folder = resolve_split(root, split, _has_split)
    file = folder / ANNOTATIONS
    doc = _load_json(file)
    classes, index_of = _categories(doc, file)
    images = _images(doc, file)
    objects: dict[int, list[tuple[tuple[float, ...], int]]] = {i: [] for i in images}
    for ann in _section(doc, "annotations", file):
        image_id, box, label = _annotation(ann, file, images, index_of)
        if box is not None:
            objects[image_id].append((box, label))
    samples = []
    for image_id, (name, width, height) in images.items():
        path, found = (folder / name).absolute(), objects[image_id]
        actual = image_size(path, file, f"image id {image_id} ({name})")
        if actual != (width, height):
            raise data_error(file, f"image id {image_id} ({name})",
                             f"annotation says {width}x{height} but the image is "
                             f"{actual[0]}x{actual[1]}")
        samples.append(Sample(path, width, height, [b for b, _ in found],
                              [lab for _, lab in found], image_id))
    return Dataset(tuple(classes), tuple(samples), root.absolute(), split, "coco")


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
        if not isinstance(cat.get("id"), int) or not isinstance(cat.get("name"), str):
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


def _images(doc: dict[str, Any], file: Path) -> dict[int, tuple[str, int, int]]:
    """Return ``image id -> (file_name, width, height)`` in file order."""
    images: dict[int, tuple[str, int, int]] = {}
    for entry in _section(doc, "images", file):
        image_id, name = entry.get("id"), entry.get("file_name")
        width, height = entry.get("width"), entry.get("height")
        where = f"image id {image_id} ({name})"
        if not isinstance(image_id, int) or not isinstance(name, str) or not name:
            raise data_error(file, where, "needs an integer 'id' and a 'file_name'")
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            raise data_error(file, where, f"needs positive integer width/height, got "
                                          f"{width!r}x{height!r}")
        if image_id in images:
            raise data_error(file, where, "duplicate image id")
        images[image_id] = (name, width, height)
    return images


def _annotation(ann: dict[str, Any], file: Path, images: dict[int, tuple[str, int, int]],
                index_of: dict[int, int]) -> tuple[int, tuple[float, ...] | None, int]:
    """Validate one annotation; return ``(image_id, clipped xyxy or None for crowd, label)``."""
    image_id, cat_id = ann.get("image_id"), ann.get("category_id")
    if image_id not in images:
        raise data_error(file, f"annotation id {ann.get('id')}", f"unknown image id {image_id!r}")
    where = f"annotation id {ann.get('id')} (image id {image_id}, {images[image_id][0]})"
    if cat_id not in index_of:
        raise data_error(file, where, f"unknown category id {cat_id!r} "
                                      f"(known: {sorted(index_of)})")
    bbox = ann.get("bbox")
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)):
        raise data_error(file, where, f"'bbox' must be 4 numbers [x, y, w, h], got {bbox!r}")
    if ann.get("iscrowd", 0):
        return image_id, None, 0  # crowd regions are "ignore" areas, not objects to detect
    x, y, w, h = bbox
    _, width, height = images[image_id]
    box = check_box((x, y, x + w, y + h), width, height, file, where)
    return image_id, box, index_of[cat_id]


# (file name, width, height, boxes [K, 4] xyxy, labels [K]) of one image
ImageEntry = tuple[str, int, int, Any, Any]


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/_annotations.coco.json`` with its images.

    Category ids are 1..C in class order. The split folder appears atomically.
    """
    target = Path(root) / split
    with atomic_dir(target, overwrite) as tmp:
        entries = []
        for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
            place_image(sample.image_path, tmp / name)
            entries.append((name, sample.width, sample.height, sample.boxes, sample.labels))
        info = {"description": f"written by sdk.data from {ds.format} ({ds.split})"}
        (tmp / ANNOTATIONS).write_text(coco_json(ds.classes, entries, info), encoding="utf-8")
    return target


def coco_json(classes: tuple[str, ...] | list[str], entries: list[ImageEntry],
              info: dict[str, Any]) -> str:
    """Render a compact COCO detection document; image ids are 0..N-1, category ids 1..C."""
    images, annotations = [], []
    for image_id, (name, width, height, boxes, labels) in enumerate(entries):
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        for box, label in zip(np.asarray(boxes).reshape(-1, 4).tolist(),
                              np.asarray(labels).reshape(-1).tolist(), strict=True):
            annotations.append(_annotation_record(len(annotations), image_id, box, int(label)))
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
                       ) -> dict[str, Any]:
    """Build one COCO annotation; ``area`` is the box area, as Roboflow's bbox exports do."""
    x1, y1, x2, y2 = (round(float(v), 2) for v in box)
    w, h = round(x2 - x1, 2), round(y2 - y1, 2)
    return {"id": ann_id, "image_id": image_id, "category_id": label + 1,
            "bbox": [x1, y1, w, h], "area": round(w * h, 2), "segmentation": [], "iscrowd": 0}
