"""YOLO layout as Roboflow exports it: ``ROOT/data.yaml`` + ``ROOT/<split>/{images,labels}``.

A label file holds one ``class cx cy w h`` line per object, coordinates normalized to
0..1; an image without a label file has no objects.
"""

from __future__ import annotations

from pathlib import Path

from sdk.atomic import atomic_dir, write_text_atomic
from sdk.data.classfile import format_data_yaml, read_class_list, read_data_yaml
from sdk.data.dataset import Dataset, Sample, check_box
from sdk.data.errors import data_error
from sdk.data.images import image_size, is_image, place_image
from sdk.data.layout import find_splits, output_names, resolve_split

DATA_YAML_NAMES = ("data.yaml", "data.yml")
CLASS_LIST_NAMES = ("classes.txt", "obj.names")


def _has_split(folder: Path) -> bool:
    return (folder / "images").is_dir()


def _class_file(root: Path) -> Path | None:
    """Return the first class-name file found in ``root``."""
    for name in (*DATA_YAML_NAMES, *CLASS_LIST_NAMES):
        if (root / name).is_file():
            return root / name
    return None


def read_classes(root: Path) -> list[str]:
    """Return the class names from ``data.yaml`` (or ``classes.txt``).

    Raises:
        DataError: no class file exists or it is malformed.
    """
    path = _class_file(root)
    if path is None:
        raise data_error(root, None, f"no class names: expected one of "
                                     f"{', '.join(DATA_YAML_NAMES + CLASS_LIST_NAMES)}")
    return read_data_yaml(path) if path.name in DATA_YAML_NAMES else read_class_list(path)


def detect(root: Path) -> bool:
    """Return True if ``root`` looks like a YOLO dataset."""
    return _class_file(root) is not None and bool(find_splits(root, _has_split))


def splits(root: Path) -> list[str]:
    """Return the split folder names of a YOLO dataset."""
    return find_splits(root, _has_split)


def read(root: Path, split: str) -> Dataset:
    """Read one split of a YOLO dataset.

    Raises:
        DataError: the class file, the split or an image is missing, or a label is invalid.
    """
    folder = resolve_split(root, split, _has_split)
    classes = read_classes(root)
    images = sorted(p for p in (folder / "images").iterdir() if is_image(p))
    samples = []
    for image_id, path in enumerate(images):
        width, height = image_size(path.absolute())
        label_file = folder / "labels" / f"{path.stem}.txt"
        boxes, labels = [], []
        if label_file.is_file():
            boxes, labels = _read_labels(label_file, width, height, len(classes))
        samples.append(Sample(path.absolute(), width, height, boxes, labels, image_id))
    return Dataset(tuple(classes), tuple(samples), root.absolute(), split, "yolo")


def _read_labels(file: Path, width: int, height: int, num_classes: int,
                 ) -> tuple[list[tuple[float, ...]], list[int]]:
    """Parse a label file into clipped pixel ``xyxy`` boxes and class indices."""
    boxes, labels = [], []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"line {number}"
        if len(fields) != 5:
            raise data_error(file, where, f"expected 5 fields 'class cx cy w h', "
                                          f"got {len(fields)}")
        try:
            cls_value, cx, cy, w, h = (float(v) for v in fields)
        except ValueError as exc:
            raise data_error(file, where, f"non-numeric field in {line.strip()!r}") from exc
        if not cls_value.is_integer() or not 0 <= cls_value < num_classes:
            raise data_error(file, where, f"class index {fields[0]} is not in 0..{num_classes - 1}")
        box = ((cx - w / 2) * width, (cy - h / 2) * height,
               (cx + w / 2) * width, (cy + h / 2) * height)
        boxes.append(check_box(box, width, height, file, where))
        labels.append(int(cls_value))
    return boxes, labels


def write(ds: Dataset, root: Path, split: str, overwrite: bool = False) -> Path:
    """Write ``ds`` as ``root/<split>/{images,labels}`` and (re)write ``root/data.yaml``.

    Raises:
        DataError: ``root`` already has a class file with different classes.
    """
    root = Path(root)
    if _class_file(root) is not None and tuple(read_classes(root)) != tuple(ds.classes):
        raise data_error(_class_file(root), None, f"has other classes than {list(ds.classes)}")
    target = root / split
    with atomic_dir(target, overwrite) as tmp:
        (tmp / "images").mkdir()
        (tmp / "labels").mkdir()
        for sample, name in zip(ds.samples, output_names(ds.samples), strict=True):
            place_image(sample.image_path, tmp / "images" / name)
            lines = [_label_line(box, label, sample.width, sample.height)
                     for box, label in zip(sample.boxes.tolist(), sample.labels.tolist(),
                                           strict=True)]
            # An empty label file marks a reviewed image without objects (a background image).
            (tmp / "labels" / f"{Path(name).stem}.txt").write_text(
                "".join(f"{line}\n" for line in lines), encoding="utf-8")
    write_text_atomic(root / "data.yaml", format_data_yaml(ds.classes, splits(root)))
    return target


def _label_line(box: list[float], label: int, width: int, height: int) -> str:
    """Format one object as ``class cx cy w h`` normalized to 6 decimals."""
    x1, y1, x2, y2 = box
    return (f"{label} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
            f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
