"""Shared fixtures: a tiny synthetic COCO dataset and helpers to hand-build bad data."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sdk.data.synth import generate


@pytest.fixture(params=["pyyaml", "builtin"])
def parser(request, monkeypatch) -> str:
    """Run a test with PyYAML (if installed) and with the built-in subset parser."""
    if request.param == "builtin":
        monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` fail
    else:
        pytest.importorskip("yaml")
    return request.param


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6/3/2-image synthetic dataset, generated once per test session (read-only!)."""
    return generate(tmp_path_factory.mktemp("synth") / "shapes", seed=3, train=6, val=3, test=2)


@pytest.fixture()
def synth_copy(synth_root: Path, tmp_path: Path) -> Path:
    """A private copy of the synthetic dataset that a test may modify."""
    return Path(shutil.copytree(synth_root, tmp_path / "copy"))


def write_image(path: Path, width: int = 64, height: int = 48, mode: str = "RGB") -> Path:
    """Write a small solid image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, (width, height), 128).save(path)
    return path


def write_coco(root: Path, annotations: list[dict], categories: list[dict] | None = None,
               images: list[dict] | None = None, split: str = "train") -> Path:
    """Write a one-image COCO split (64x48 ``a.png``) and return the json path."""
    folder = root / split
    write_image(folder / "a.png")
    doc = {
        "images": images if images is not None else [
            {"id": 0, "file_name": "a.png", "width": 64, "height": 48}],
        "categories": categories if categories is not None else [
            {"id": 1, "name": "cat", "supercategory": "none"},
            {"id": 2, "name": "dog", "supercategory": "none"}],
        "annotations": annotations,
    }
    path = folder / "_annotations.coco.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def ann(box: list[float], category: int = 1, ann_id: int = 7, image_id: int = 0) -> dict:
    """One COCO annotation."""
    return {"id": ann_id, "image_id": image_id, "category_id": category, "bbox": box,
            "area": box[2] * box[3], "iscrowd": 0}


def write_yolo(root: Path, labels: str, names: str = "names: ['cat', 'dog']\nnc: 2\n") -> Path:
    """Write a one-image YOLO split (64x48) with the given label text; return the label path."""
    (root / "data.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(names)
    write_image(root / "train" / "images" / "a.jpg")
    label = root / "train" / "labels" / "a.txt"
    label.parent.mkdir(parents=True, exist_ok=True)
    label.write_text(labels)
    return label


def write_voc(root: Path, objects: str, filename: str = "a.png") -> Path:
    """Write a one-image VOC split (64x48) with raw ``<object>`` xml; return the xml path."""
    write_image(root / "train" / "a.png")
    xml = root / "train" / "a.xml"
    xml.write_text(f"<annotation><filename>{filename}</filename><size><width>64</width>"
                   f"<height>48</height><depth>3</depth></size>{objects}</annotation>")
    return xml


def voc_object(name: str, box: tuple[float, float, float, float]) -> str:
    """One VOC ``<object>`` element."""
    x1, y1, x2, y2 = box
    return (f"<object><name>{name}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
            f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>")


def by_name(samples) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Map image file name -> (boxes, labels)."""
    return {s.image_path.name: (s.boxes, s.labels) for s in samples}


class Build:
    """Hand-built dataset writers, handed to tests through the ``build`` fixture."""

    image = staticmethod(write_image)
    coco = staticmethod(write_coco)
    ann = staticmethod(ann)
    yolo = staticmethod(write_yolo)
    voc = staticmethod(write_voc)
    voc_object = staticmethod(voc_object)
    by_name = staticmethod(by_name)


@pytest.fixture()
def build() -> type[Build]:
    """Dataset-building helpers (a fixture, so test modules need not import conftest)."""
    return Build
