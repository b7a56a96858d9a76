"""YOLO format: read Ultralytics and Roboflow layouts (see :mod:`sdk.data.yolo_layout`), write both.

A label file holds one ``class cx cy w h`` line per object, coordinates normalized to
0..1; a line ``class x1 y1 x2 y2 ...`` (a segmentation polygon) counts as the box around
it, as in Ultralytics' detection training. Boxes may stick out of the image by 1 % of its
size (Ultralytics' tolerance) and are clipped; repeated lines count once.
"""

from __future__ import annotations

from pathlib import Path

from sdk.atomic import atomic_dir, write_text_atomic
from sdk.data.classfile import format_data_yaml
from sdk.data.dataset import BOX_TOLERANCE_PX, Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, place_image
from sdk.data.layout import check_layout, count, find_splits, output_names
from sdk.data.yolo_layout import (
    CLASS_LIST_NAMES,
    DATA_YAML_NAMES,
    class_list_file,
    find_yaml,
    is_yolo,
    label_path,
    pick_split,
    read_classes,
    split_base,
    split_images,
    yolo_splits,
)

__all__ = ["CLASS_LIST_NAMES", "DATA_YAML_NAMES", "detect", "read", "read_classes", "splits",
           "write"]

# How far a box may stick out, as a fraction of the image side (Ultralytics allows 1.01).
_TOLERANCE = 0.01


def detect(root: Path) -> bool:
    """Return True if ``root`` looks like a YOLO dataset (or is its data yaml)."""
    return is_yolo(root)


def splits(root: Path) -> list[str]:
    """Return the split names of a YOLO dataset (not those whose yaml path is missing).

    Raises:
        DataError: every split the yaml names is missing (the first one's error).
    """
    found = yolo_splits(root)
    names = [s.name for s in found if s.missing is None]
    if found and not names:
        raise found[0].missing
    return names


def read(root: Path, split: str) -> Dataset:
    """Read one split of a YOLO dataset.

    Raises:
        DataError: the class file, the split or an image is missing, or a label is invalid.
    """
    chosen = pick_split(root, split)
    classes = read_classes(root)
    samples, unlabeled, label_dirs = [], 0, set()
    for image_id, path in enumerate(split_images(chosen, split_base(root))):
        width, height = image_size(path)
        label_file = label_path(path)
        boxes, labels = [], []
        if label_file.is_file():
            label_dirs.add(label_file.parent)
            boxes, labels = _read_labels(label_file, width, height, len(classes))
        else:
            unlabeled += 1
        samples.append(Sample(path, width, height, boxes, labels, image_id))
    shown = ", ".join(str(e) for e in chosen.entries)
    labels_in = _common_folder(label_dirs)
    missing = f"; {count(unlabeled, 'image')} without a label file (no objects)"
    source = (f"{count(len(samples), 'image')} from {shown} ({chosen.origin}); labels in "
              f"{labels_in}{missing if unlabeled else ''}")
    folder = root if root.is_dir() else root.parent
    return Dataset(tuple(classes), tuple(samples), folder.absolute(), split, "yolo",
                   layout=chosen.layout, source=source)


def _common_folder(folders: set[Path]) -> str:
    """Name the label folders briefly: one folder, or their common parent."""
    if not folders:
        return "-"
    if len(folders) == 1:
        return str(next(iter(folders)))
    parts = [f.parts for f in folders]
    common = [p[0] for p in zip(*parts, strict=False) if len(set(p)) == 1]
    return f"{Path(*common) if common else '/'} ({len(folders)} folders)"


def _read_labels(file: Path, width: int, height: int, num_classes: int,
                 ) -> tuple[list[tuple[float, ...]], list[int]]:
    """Parse a label file into clipped pixel ``xyxy`` boxes and class indices."""
    boxes, labels, seen = [], [], set()
    tolerance = (max(BOX_TOLERANCE_PX, _TOLERANCE * width),
                 max(BOX_TOLERANCE_PX, _TOLERANCE * height))
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise data_error(file, None, f"not UTF-8 text ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or tuple(fields) in seen:
            continue
        seen.add(tuple(fields))
        where = f"line {number}"
        if len(fields) != 5 and (len(fields) < 7 or len(fields) % 2 == 0):
            raise data_error(file, where, f"expected 5 fields 'class cx cy w h', got "
                                          f"{len(fields)} (or a polygon 'class x1 y1 x2 y2 "
                                          f"x3 y3 ...')")
        try:
            values = [float(v) for v in fields]
        except ValueError as exc:
            raise data_error(file, where, f"non-numeric field in {line.strip()!r}") from exc
        cls_value = values[0]
        if not cls_value.is_integer() or not 0 <= cls_value < num_classes:
            raise data_error(file, where, f"class index {fields[0]} is not in 0..{num_classes - 1}")
        if len(values) == 5:
            cx, cy, w, h = values[1:]
            box = ((cx - w / 2) * width, (cy - h / 2) * height,
                   (cx + w / 2) * width, (cy + h / 2) * height)
        else:
            xs, ys = values[1::2], values[2::2]
            box = (min(xs) * width, min(ys) * height, max(xs) * width, max(ys) * height)
        boxes.append(check_box(box, width, height, file, where, tolerance))
        labels.append(int(cls_value))
    return boxes, labels


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False,
          layout: str = "roboflow") -> Path:
    """Write ``ds`` as split ``split`` of a YOLO dataset and (re)write ``root/data.yaml``.

    ``layout`` ``roboflow``: ``root/<split>/{images,labels}``; ``standard`` (Ultralytics):
    ``root/images/<split>`` and ``root/labels/<split>``. YOLO has no crowd/difficult flag:
    ignore regions are not written. Returns the split's folder (``root/<split>`` or
    ``root/images/<split>``).

    Raises:
        DataError: ``root`` already has a class file with other classes, the split exists
            and ``overwrite`` is False, or ``layout`` is unknown.
    """
    check_layout(layout)
    root = Path(root)
    existing = find_yaml(root) or class_list_file(root)
    if existing is not None and tuple(read_classes(root)) != tuple(ds.classes):
        raise data_error(existing, None, f"has other classes than {list(ds.classes)}")
    if layout == "roboflow":
        with atomic_dir(root / split, overwrite) as tmp:
            _write_files(ds, tmp / "images", tmp / "labels")
        target = root / split
        folders = find_splits(root, lambda d: (d / "images").is_dir() and d.name != "images")
        text = format_data_yaml(ds.classes, folders)
    else:
        with (atomic_dir(root / "images" / split, overwrite) as images,
              atomic_dir(root / "labels" / split, overwrite) as labels):
            _write_files(ds, images, labels)
        target = root / "images" / split
        folders = find_splits(root / "images", lambda d: True)
        text = format_data_yaml(ds.classes, folders, folder="images/{split}")
    write_text_atomic(root / DATA_YAML_NAMES[0], text)
    return target


def _write_files(ds: Dataset, images: Path, labels: Path) -> None:
    """Place the images in ``images`` and one label file per image in ``labels``."""
    images.mkdir(exist_ok=True)
    labels.mkdir(exist_ok=True)
    for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
        place_image(sample.image_path, images / name)
        lines = [_label_line(box, label, sample.width, sample.height)
                 for box, label in zip(sample.boxes.tolist(), sample.labels.tolist(),
                                       strict=True)]
        # An empty label file marks a reviewed image without objects (a background image).
        (labels / f"{Path(name).stem}.txt").write_text(
            "".join(f"{line}\n" for line in lines), encoding="utf-8")


def _label_line(box: list[float], label: int, width: int, height: int) -> str:
    """Format one object as ``class cx cy w h`` normalized to 6 decimals."""
    x1, y1, x2, y2 = box
    return (f"{label} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
            f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
