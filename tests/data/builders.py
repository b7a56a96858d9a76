"""One small dataset written by hand in every layout: the ground truth the readers must see.

The files are written here independently of the SDK's writers, the way each tool (COCO,
Ultralytics, the VOC devkit, Roboflow) lays them out, so the readers are checked against
the layouts themselves and not against our own output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from sdk.data import Dataset

CLASSES = ("cat", "dog", "emu")


@dataclass(frozen=True)
class Obj:
    """One object in pixel ``x1, y1, x2, y2`` (continuous coordinates, 0 = left edge)."""

    cls: int
    box: tuple[float, float, float, float]
    ignore: bool = False  # COCO iscrowd / VOC difficult


@dataclass(frozen=True)
class Img:
    name: str
    width: int
    height: int
    objects: tuple[Obj, ...]


# Float boxes, an image without objects, an ignore region, a class (emu) only in val.
SPLITS: dict[str, tuple[Img, ...]] = {
    "train": (
        Img("a.jpg", 64, 48, (Obj(0, (4, 6, 30, 40)), Obj(1, (33.5, 10.25, 60, 47)))),
        Img("b.png", 80, 60, (Obj(1, (10, 12, 50, 58)), Obj(0, (0, 0, 20, 20), True))),
        Img("c.jpg", 32, 32, ()),
    ),
    "val": (
        Img("d.jpg", 64, 64, (Obj(2, (8.75, 8, 56, 40.5)), Obj(1, (40, 44, 60, 60), True))),
    ),
}


def image(path: Path, width: int, height: int, mode: str = "RGB") -> Path:
    """Write a small image with some structure (JPEG keeps solid colors too well)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(width * height * 3).reshape(height, width, 3) % 251).astype(np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return path


def expected(ds: Dataset, split: str | None = None, with_ignore: bool | None = None) -> None:
    """Assert that ``ds`` holds split ``split`` of :data:`SPLITS` (default: the split it
    names) with boxes within 0.5 px, and its ignore regions unless ``with_ignore`` is False
    (default: unless read from YOLO, which cannot hold them)."""
    with_ignore = ds.format != "yolo" if with_ignore is None else with_ignore
    split = split or ("val" if ds.split in ("val", "valid", "val2017") else "train")
    assert ds.classes == CLASSES
    by_name = {s.image_path.name: s for s in ds.samples}
    want = SPLITS[split]
    assert sorted(by_name) == sorted(img.name for img in want), ds.source
    for img in want:
        sample = by_name[img.name]
        assert (sample.width, sample.height) == (img.width, img.height)
        targets = sorted((o.cls, o.box) for o in img.objects if not o.ignore)
        got = sorted(zip(sample.labels.tolist(), sample.boxes.tolist(), strict=True))
        _same_objects(got, targets, img.name)
        ignored = sorted((o.cls, o.box) for o in img.objects if o.ignore) if with_ignore else []
        got = sorted(zip(sample.ignore_labels.tolist(), sample.ignore_boxes.tolist(),
                         strict=True))
        _same_objects(got, ignored, img.name)


def _same_objects(got: list, want: list, name: str) -> None:
    assert [c for c, _ in got] == [c for c, _ in want], name
    if want:
        np.testing.assert_allclose([b for _, b in got], [b for _, b in want], atol=0.5,
                                   err_msg=name)


def _images(folder: Path, imgs: tuple[Img, ...]) -> None:
    for img in imgs:
        image(folder / img.name, img.width, img.height)


def _coco_doc(imgs: tuple[Img, ...], file_name=lambda img: img.name,
              category_ids: tuple[int, ...] = (3, 7, 12)) -> dict:
    """A COCO document with non-contiguous category ids, extras, polygons and crowd."""
    images, anns = [], []
    for image_id, img in enumerate(imgs, start=100):
        images.append({"id": image_id, "file_name": file_name(img), "width": img.width,
                       "height": img.height, "license": 1, "date_captured": "2024"})
        for obj in img.objects:
            x1, y1, x2, y2 = obj.box
            anns.append({"id": len(anns) + 1, "image_id": image_id,
                         "category_id": category_ids[obj.cls], "bbox": [x1, y1, x2 - x1, y2 - y1],
                         "area": (x2 - x1) * (y2 - y1), "iscrowd": int(obj.ignore),
                         "segmentation": [[x1, y1, x2, y1, x2, y2, x1, y2]],
                         "attributes": {"occluded": False}})
    cats = [{"id": cid, "name": name, "supercategory": "animal"}
            for cid, name in zip(category_ids, CLASSES, strict=True)]
    return {"info": {"year": 2024}, "licenses": [{"id": 1, "name": "x"}],
            "images": images, "annotations": anns, "categories": cats[::-1]}


def coco_official(root: Path, year: str = "2017") -> Path:
    """``annotations/instances_<split><year>.json`` + ``<split><year>/`` image folders."""
    for split, imgs in SPLITS.items():
        _images(root / f"{split}{year}", imgs)
        path = root / "annotations" / f"instances_{split}{year}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_coco_doc(imgs)))
    # Other annotation kinds of the official release sit beside it and are not splits.
    (root / "annotations" / f"person_keypoints_val{year}.json").write_text("{}")
    return root


def coco_roboflow(root: Path) -> Path:
    """``<split>/_annotations.coco.json`` beside the images (Roboflow names val 'valid')."""
    for split, imgs in SPLITS.items():
        folder = root / ("valid" if split == "val" else split)
        _images(folder, imgs)
        (folder / "_annotations.coco.json").write_text(json.dumps(_coco_doc(imgs)))
    return root


def yolo_lines(img: Img) -> str:
    """The label file text of one image (ignore regions cannot be expressed in YOLO)."""
    lines = []
    for obj in img.objects:
        if obj.ignore:
            continue
        x1, y1, x2, y2 = obj.box
        w, h = img.width, img.height
        lines.append(f"{obj.cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} "
                     f"{(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}")
    return "".join(f"{line}\n" for line in lines)


def yolo_ultralytics(root: Path, yaml_text: str | None = None) -> Path:
    """``images/<split>``, ``labels/<split>``, ``data.yaml`` with ``path`` and a names map.

    Images without objects get no label file (Ultralytics: no objects).
    """
    for split, imgs in SPLITS.items():
        for img in imgs:
            image(root / "images" / split / img.name, img.width, img.height)
            text = yolo_lines(img)
            if text:
                label = root / "labels" / split / f"{Path(img.name).stem}.txt"
                label.parent.mkdir(parents=True, exist_ok=True)
                label.write_text(text)
    names = "".join(f"  {i}: {name}\n" for i, name in enumerate(CLASSES))
    (root / "data.yaml").write_text(yaml_text or (
        f"path: {root}\ntrain: images/train\nval: images/val\ntest:  # none\n\n"
        f"names:\n{names}"))
    return root


def yolo_roboflow(root: Path) -> Path:
    """``<split>/images``, ``<split>/labels`` and Roboflow's ``../<split>/images`` yaml."""
    for split, imgs in SPLITS.items():
        folder = root / ("valid" if split == "val" else split)
        for img in imgs:
            image(folder / "images" / img.name, img.width, img.height)
            label = folder / "labels" / f"{Path(img.name).stem}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(yolo_lines(img))
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\n"
        f"nc: {len(CLASSES)}\nnames: {list(CLASSES)}\n")
    return root


def voc_xml(img: Img, one_based: bool) -> str:
    """One VOC annotation; devkit coordinates are 1-based pixel indices."""
    shift = 1 if one_based else 0
    objects = "".join(
        f"<object><name>{CLASSES[o.cls]}</name><pose>Left</pose><truncated>1</truncated>"
        f"<difficult>{int(o.ignore)}</difficult><bndbox><xmin>{o.box[0] + shift:g}</xmin>"
        f"<ymin>{o.box[1] + shift:g}</ymin><xmax>{o.box[2]:g}</xmax><ymax>{o.box[3]:g}</ymax>"
        f"</bndbox></object>" for o in img.objects)
    return (f"<annotation><folder>VOC2007</folder><filename>{img.name}</filename>"
            f"<source><database>test</database></source><size><width>{img.width}</width>"
            f"<height>{img.height}</height><depth>3</depth></size><segmented>0</segmented>"
            f"{objects}</annotation>")


def voc_devkit(root: Path, year: str = "VOC2007", splits: dict | None = None) -> Path:
    """``VOCdevkit/<year>/{Annotations,JPEGImages,ImageSets/Main}``; returns ``root``."""
    base = root / "VOCdevkit" / year
    main = base / "ImageSets" / "Main"
    main.mkdir(parents=True, exist_ok=True)
    every = []
    for split, imgs in (splits or SPLITS).items():
        for img in imgs:
            image(base / "JPEGImages" / img.name, img.width, img.height)
            xml = base / "Annotations" / f"{Path(img.name).stem}.xml"
            xml.parent.mkdir(parents=True, exist_ok=True)
            xml.write_text(voc_xml(img, one_based=True))
        ids = [Path(img.name).stem for img in imgs]
        (main / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))
        # per-class files ("<class>_<split>.txt": id and 1/-1) are not splits
        (main / f"cat_{split}.txt").write_text("".join(f"{i}  1\n" for i in ids))
        every += ids
    (main / "trainval.txt").write_text("".join(f"{i}\n" for i in every))
    return root


def voc_roboflow(root: Path) -> Path:
    """``<split>/*.xml`` beside the images, coordinates as given (0-based)."""
    for split, imgs in SPLITS.items():
        folder = root / ("valid" if split == "val" else split)
        for img in imgs:
            image(folder / img.name, img.width, img.height)
            (folder / f"{Path(img.name).stem}.xml").write_text(voc_xml(img, one_based=False))
    return root


LAYOUT_BUILDERS = {
    "coco official": coco_official,
    "coco roboflow": coco_roboflow,
    "yolo ultralytics": yolo_ultralytics,
    "yolo roboflow": yolo_roboflow,
    "voc devkit": voc_devkit,
    "voc roboflow": voc_roboflow,
}
