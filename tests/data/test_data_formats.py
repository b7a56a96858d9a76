"""Readers, writers, round trips and the Dataset object."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sdk.data import (
    DataError,
    Dataset,
    detect_format,
    list_splits,
    load_dataset,
    load_image,
    write_coco,
    write_voc,
    write_yolo,
)
from sdk.data.convert import convert
from sdk.data.shapes import CLASSES


def test_synth_loads_as_coco(synth_root: Path) -> None:
    ds = load_dataset(synth_root, "train")
    assert isinstance(ds, Dataset)
    assert (ds.format, ds.split, len(ds), ds.classes) == ("coco", "train", 6, CLASSES)
    assert list_splits(synth_root) == ["train", "val", "test"]
    for sample in ds.samples:
        assert sample.image_path.is_absolute() and sample.image_path.is_file()
        assert sample.boxes.dtype == np.float32 and sample.boxes.shape[1] == 4
        assert sample.labels.dtype == np.int64 and len(sample.labels) == len(sample.boxes)
        assert (sample.boxes[:, 2:] > sample.boxes[:, :2]).all()
        assert (sample.boxes[:, 2] <= sample.width).all()
        assert (sample.boxes[:, 3] <= sample.height).all()
        with pytest.raises(ValueError):
            sample.boxes[0, 0] = 1.0  # read-only: the dataclass is frozen all the way down


def test_round_trip_coco_yolo_voc_coco(synth_root: Path, tmp_path: Path, build) -> None:
    source = load_dataset(synth_root, "train")
    write_yolo(source, tmp_path / "yolo", "train")
    as_yolo = load_dataset(tmp_path / "yolo", "train")
    write_voc(as_yolo, tmp_path / "voc", "train")
    as_voc = load_dataset(tmp_path / "voc", "train")
    write_coco(as_voc, tmp_path / "coco", "train")
    back = load_dataset(tmp_path / "coco", "train")
    assert [as_yolo.format, as_voc.format, back.format] == ["yolo", "voc", "coco"]
    expected = build.by_name(source.samples)
    for ds in (as_yolo, as_voc, back):
        assert ds.classes == source.classes
        got = build.by_name(ds.samples)
        assert got.keys() == expected.keys()
        for name, (boxes, labels) in expected.items():
            np.testing.assert_array_equal(got[name][1], labels)
            np.testing.assert_allclose(got[name][0], boxes, atol=0.5)


def test_convert_whole_dataset_and_detect(synth_root: Path, tmp_path: Path) -> None:
    datasets = convert(synth_root, tmp_path / "out", "yolo")
    assert [ds.split for ds in datasets] == ["train", "val", "test"]
    assert detect_format(tmp_path / "out") == "yolo"
    assert list_splits(tmp_path / "out") == ["train", "val", "test"]
    assert "val: val/images" in (tmp_path / "out" / "data.yaml").read_text()
    assert len(load_dataset(tmp_path / "out", "val")) == 3


def test_convert_is_atomic(synth_root: Path, tmp_path: Path, monkeypatch) -> None:
    import sdk.data.voc as voc

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(voc, "_write_xml", broken)
    with pytest.raises(OSError, match="disk full"):
        convert(synth_root, tmp_path / "out", "voc")
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary folder


def test_writer_is_atomic_per_split(synth_root: Path, tmp_path: Path, monkeypatch) -> None:
    import sdk.data.coco as coco

    ds = load_dataset(synth_root, "val")
    calls = []

    def fail_third(src: Path, dst: Path) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("copy failed")
        dst.write_bytes(src.read_bytes())

    monkeypatch.setattr(coco, "place_image", fail_third)
    with pytest.raises(OSError):
        write_coco(ds, tmp_path / "root", "val")
    assert list((tmp_path / "root").iterdir()) == []


def test_writer_refuses_to_overwrite(synth_root: Path, tmp_path: Path) -> None:
    ds = load_dataset(synth_root, "val")
    write_coco(ds, tmp_path, "val")
    with pytest.raises(DataError, match="not empty"):
        write_coco(ds, tmp_path, "val")
    write_coco(ds, tmp_path, "val", overwrite=True)
    assert len(load_dataset(tmp_path, "val")) == 3


def test_yolo_writer_rejects_other_classes(synth_root: Path, tmp_path: Path, build) -> None:
    build.yolo(tmp_path, "")
    with pytest.raises(DataError, match="data.yaml: has other classes"):
        write_yolo(load_dataset(synth_root, "val"), tmp_path, "val")


def test_coco_category_ids_are_mapped_in_id_order(tmp_path: Path, build) -> None:
    categories = [{"id": 9, "name": "zebra", "supercategory": "animals"},
                  {"id": 0, "name": "animals", "supercategory": "none"},
                  {"id": 4, "name": "ant", "supercategory": "animals"}]
    build.coco(tmp_path, [build.ann([1, 2, 10, 10], 9), build.ann([5, 5, 4, 4], 4, ann_id=8)],
               categories)
    ds = load_dataset(tmp_path)
    assert ds.classes == ("ant", "zebra")  # id order; the supercategory-only id 0 is skipped
    assert ds.samples[0].labels.tolist() == [1, 0]
    np.testing.assert_allclose(ds.samples[0].boxes, [[1, 2, 11, 12], [5, 5, 9, 9]])


def test_coco_supercategory_kept_when_annotated(tmp_path: Path, build) -> None:
    categories = [{"id": 0, "name": "animals", "supercategory": "none"},
                  {"id": 1, "name": "cat", "supercategory": "animals"}]
    build.coco(tmp_path, [build.ann([1, 2, 10, 10], 0)], categories)
    assert load_dataset(tmp_path).classes == ("animals", "cat")


def test_coco_crowd_boxes_are_ignored(tmp_path: Path, build) -> None:
    crowd = {**build.ann([1, 1, 5, 5]), "iscrowd": 1}
    build.coco(tmp_path, [crowd, build.ann([2, 2, 5, 5], 2, ann_id=8)])
    assert load_dataset(tmp_path).samples[0].labels.tolist() == [1]


def test_box_within_tolerance_is_clipped(tmp_path: Path, build) -> None:
    build.coco(tmp_path, [build.ann([-0.8, 0, 65.5, 48.6])])
    np.testing.assert_allclose(load_dataset(tmp_path).samples[0].boxes, [[0, 0, 64, 48]])


def test_split_aliases(tmp_path: Path, build) -> None:
    build.coco(tmp_path, [], split="valid")  # Roboflow's name for the validation split
    assert load_dataset(tmp_path, "val").split == "val"
    assert len(load_dataset(tmp_path, "valid")) == 1


def test_fingerprint_ignores_entry_order_but_sees_boxes(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [build.ann([1, 2, 10, 10]), build.ann([3, 3, 5, 5], 2, 8)])
    first = load_dataset(tmp_path).fingerprint()
    doc = json.loads(path.read_text())
    doc["annotations"].reverse()
    doc = {key: doc[key] for key in reversed(list(doc))}
    path.write_text(json.dumps(doc))
    assert load_dataset(tmp_path).fingerprint() == first
    doc["annotations"][0]["bbox"][0] += 1
    path.write_text(json.dumps(doc))
    assert load_dataset(tmp_path).fingerprint() != first


def test_yolo_reader(tmp_path: Path, build) -> None:
    build.yolo(tmp_path, "1 0.5 0.5 0.25 0.5\n\n0 0.25 0.25 0.1 0.1\n",
               names="names:\n  0: cat\n  1: dog\n")
    build.image(tmp_path / "train" / "images" / "b.png")  # no label file: no objects
    ds = load_dataset(tmp_path)
    assert ds.format == "yolo" and ds.classes == ("cat", "dog")
    a, b = ds.samples
    np.testing.assert_allclose(a.boxes, [[24, 12, 40, 36], [12.8, 9.6, 19.2, 14.4]], atol=1e-4)
    assert a.labels.tolist() == [1, 0] and len(b.boxes) == 0


def test_yolo_classes_txt(tmp_path: Path, build) -> None:
    build.yolo(tmp_path, "0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "data.yaml").unlink()
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    assert load_dataset(tmp_path).classes == ("cat", "dog")


def test_voc_classes_sorted_or_from_labels_txt(tmp_path: Path, build) -> None:
    build.voc(tmp_path, build.voc_object("zebra", (1, 1, 9, 9))
              + build.voc_object("ant", (2, 2, 5, 5)))
    ds = load_dataset(tmp_path)
    assert ds.format == "voc" and ds.classes == ("ant", "zebra")
    assert ds.samples[0].labels.tolist() == [1, 0]
    (tmp_path / "labels.txt").write_text("zebra\nant\nbee\n")
    assert load_dataset(tmp_path).classes == ("zebra", "ant", "bee")


def test_load_image_converts_modes_and_exif(tmp_path: Path, build) -> None:
    for mode in ("L", "RGBA", "P", "I;16"):
        image = load_image(build.image(tmp_path / f"{mode.replace(';', '')}.png", 8, 6, mode))
        assert image.shape == (6, 8, 3) and image.dtype == np.uint8
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: displayed as 6 x 8
    Image.new("RGB", (8, 6)).save(tmp_path / "rot.jpg", exif=exif)
    assert load_image(tmp_path / "rot.jpg").shape == (8, 6, 3)


def test_exif_rotation_is_used_for_the_image_size(tmp_path: Path, build) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = build.coco(tmp_path, [build.ann([1, 1, 40, 60])],
                      images=[{"id": 0, "file_name": "r.jpg", "width": 48, "height": 64}])
    Image.new("RGB", (64, 48)).save(path.parent / "r.jpg", exif=exif)
    assert load_dataset(tmp_path).samples[0].width == 48
