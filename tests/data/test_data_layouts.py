"""Every common layout of COCO, YOLO and VOC loads, with its edge cases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from sdk.data import DataError, detect_format, list_splits, load_dataset
from tests.data.builders import (
    LAYOUT_BUILDERS,
    SPLITS,
    coco_official,
    expected,
    image,
    voc_devkit,
    voc_xml,
    yolo_ultralytics,
)


@pytest.mark.parametrize("layout", sorted(LAYOUT_BUILDERS))
def test_every_layout_loads_both_splits(tmp_path: Path, layout: str) -> None:
    root = LAYOUT_BUILDERS[layout](tmp_path / "ds")
    fmt = layout.split()[0]
    assert detect_format(root) == fmt
    for split in ("train", "val"):
        ds = load_dataset(root, split)
        assert ds.format == fmt and ds.split == split
        assert layout.split()[1] in ds.layout.lower()
        expected(ds)


# --- YOLO (Ultralytics rules) -------------------------------------------------------------

def test_yolo_ultralytics_splits_and_sources(tmp_path: Path, parser: str) -> None:
    root = yolo_ultralytics(tmp_path / "ds")
    assert list_splits(root) == ["train", "val"]  # 'test:' is empty
    ds = load_dataset(root, "train")
    assert "data.yaml 'train'" in ds.source and str(root / "images" / "train") in ds.source
    assert str(root / "labels" / "train") in ds.source
    assert "1 image without a label file" in ds.source  # c.jpg: no objects


def test_yolo_yaml_given_directly_with_path_elsewhere(tmp_path: Path) -> None:
    root = yolo_ultralytics(tmp_path / "ds")
    config = tmp_path / "configs" / "animals.yaml"
    config.parent.mkdir()
    config.write_text("path: ../ds\ntrain: images/train\nval: images/val\n"
                      "names: [cat, dog, emu]\n")
    (root / "data.yaml").unlink()
    expected(load_dataset(config, "val"))
    assert detect_format(config) == "yolo" and list_splits(config) == ["train", "val"]


def test_yolo_path_missing_falls_back_to_the_yaml_folder(tmp_path: Path) -> None:
    root = yolo_ultralytics(tmp_path / "ds", "path: /somewhere/else/ds\ntrain: images/train\n"
                                             "val: images/val\nnames: [cat, dog, emu]\n")
    ds = load_dataset(root, "train")
    expected(ds)
    assert "'path: /somewhere/else/ds' not found" in ds.source


def test_yolo_split_as_image_lists_and_lists_of_entries(tmp_path: Path, parser: str) -> None:
    root = yolo_ultralytics(tmp_path / "ds")
    # Ultralytics' own list style (./ relative to the list), a plain relative line and an
    # absolute one; val mixes a list file and a folder.
    (root / "train.txt").write_text(f"./images/train/a.jpg\n\nimages/train/b.png\n"
                                    f"{root / 'images' / 'train' / 'c.jpg'}\n")
    (root / "extra.txt").write_text("./images/train/a.jpg\n")
    (root / "data.yaml").write_text("train: train.txt\nval:\n  - extra.txt\n  - images/val\n"
                                    "names: {0: cat, 1: dog, 2: emu}  # a flow map\n")
    expected(load_dataset(root, "train"))
    val = load_dataset(root, "val")
    assert sorted(s.image_path.name for s in val.samples) == ["a.jpg", "d.jpg"]
    assert "train.txt" in load_dataset(root, "train").source
    (root / "data.yaml").write_text("train: train.txt\nval: [extra.txt, images/val]\n"
                                    "names: [cat, dog, emu]\n")
    assert len(load_dataset(root, "val")) == 2


def test_yolo_labels_follow_the_last_images_folder(tmp_path: Path) -> None:
    # A dataset inside a folder that is itself called "images": only the last /images/ of
    # the path becomes /labels/ (Ultralytics' img2label_paths).
    root = tmp_path / "images" / "ds"
    image(root / "images" / "train" / "a.jpg", 64, 48)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("train: images/train\nnames: [cat]\n")
    np.testing.assert_allclose(load_dataset(root).samples[0].boxes, [[16, 12, 48, 36]])


def test_yolo_labels_beside_images_without_an_images_folder(tmp_path: Path) -> None:
    image(tmp_path / "pics" / "a.JPG", 64, 48)  # upper-case extension
    (tmp_path / "pics" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text("train: pics\nnames: [cat]\n")
    ds = load_dataset(tmp_path)
    assert [s.image_path.name for s in ds.samples] == ["a.JPG"] and len(ds.samples[0].boxes) == 1


def test_yolo_polygons_duplicates_and_tolerance(tmp_path: Path, build) -> None:
    # a segmentation polygon is its bounding box; a repeated line counts once; 0.5 % out of
    # the image is inside Ultralytics' 1 % tolerance and is clipped.
    build.yolo(tmp_path, "0 0.1 0.1 0.5 0.2 0.3 0.6\n1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n"
                         "0 0.9 0.5 0.21 0.2\n")
    sample = load_dataset(tmp_path).samples[0]
    assert sample.labels.tolist() == [0, 1, 0]
    np.testing.assert_allclose(sample.boxes, [[6.4, 4.8, 32, 28.8], [25.6, 19.2, 38.4, 28.8],
                                              [50.88, 19.2, 64, 28.8]], atol=1e-4)


def test_yolo_roboflow_yaml_with_foreign_absolute_paths(tmp_path: Path) -> None:
    # Old Roboflow exports name Colab paths; the split folders stand in for them.
    root = LAYOUT_BUILDERS["yolo roboflow"](tmp_path / "ds")
    (root / "data.yaml").write_text("train: /content/ds/train/images\n"
                                    "val: /content/ds/valid/images\nnames: [cat, dog, emu]\n")
    ds = load_dataset(root, "val")
    expected(ds)
    assert "/content/ds/valid/images, which does not exist; using the folder" in ds.source
    assert list_splits(root) == ["train", "val"]


def test_yolo_bad_yaml_entries_and_list_lines(tmp_path: Path) -> None:
    root = yolo_ultralytics(tmp_path / "ds")
    (root / "data.yaml").write_text("train: images/train\ntest: images/nowhere\n"
                                    "names: [a, b, c]\n")
    assert list_splits(root) == ["train", "val"]  # val: by folder; test: not there
    with pytest.raises(DataError, match=r"data.yaml: 'test': path not found: .*images/nowhere"):
        load_dataset(root, "test")
    (root / "data.yaml").write_text("train: nowhere/a\nval: nowhere/b\nnames: [a, b, c]\n")
    assert list_splits(root) == ["train", "val"]  # images/train and images/val stand in
    (root / "images").rename(root / "pictures")  # now nothing does: no split at all
    with pytest.raises(DataError, match=r"data.yaml: 'train': path not found"):
        list_splits(root)
    (root / "pictures").rename(root / "images")
    (root / "data.yaml").write_text("train: list.txt\nnames: [a, b, c]\n")
    (root / "list.txt").write_text("./images/train/a.jpg\n./images/train/zzz.jpg\n")
    with pytest.raises(DataError, match=r"list.txt: line 2: image not found: ./images/train/zzz"):
        load_dataset(root, "train")
    (root / "data.yaml").write_text("train: 3\nnames: [a, b, c]\n")
    with pytest.raises(DataError, match="data.yaml: 'train': must be a path or a list"):
        load_dataset(root, "train")


# --- COCO ---------------------------------------------------------------------------------

def test_coco_official_split_names_and_sources(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    assert list_splits(root) == ["train2017", "val2017"]  # person_keypoints_* is no split
    ds = load_dataset(root, "train")  # 'train' selects train2017
    assert ds.split == "train" and ds.layout.startswith("official")
    assert str(root / "annotations" / "instances_train2017.json") in ds.source
    assert f"images in {root / 'train2017'} (3)" in ds.source
    assert load_dataset(root, "val2017").split == "val2017"
    with pytest.raises(DataError, match="split 'test': split not found .found: train2017"):
        load_dataset(root, "test")


def test_coco_file_names_relative_to_root_or_foreign(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    path = root / "annotations" / "instances_val2017.json"
    doc = json.loads(path.read_text())
    doc["images"][0]["file_name"] = "val2017/d.jpg"  # relative to the root
    path.write_text(json.dumps(doc))
    expected(load_dataset(root, "val"))
    doc["images"][0]["file_name"] = "C:\\Users\\me\\coco\\d.jpg"  # written on another machine
    path.write_text(json.dumps(doc))
    expected(load_dataset(root, "val"))


def test_coco_cvat_style_images_folder(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    (root / "annotations" / "instances_val2017.json").rename(
        root / "annotations" / "instances_default.json")
    (root / "val2017").rename(root / "images")
    (root / "annotations" / "instances_train2017.json").unlink()
    assert list_splits(root) == ["default"]
    expected(load_dataset(root, "default"), "val")


def test_coco_single_file_with_images_folder(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    file = tmp_path / "elsewhere" / "labels.json"
    file.parent.mkdir()
    file.write_bytes((root / "annotations" / "instances_val2017.json").read_bytes())
    with pytest.raises(DataError, match=r"image id 100 \(d.jpg\): image file not found"):
        load_dataset(file)
    ds = load_dataset(file, images=root / "val2017")
    assert ds.layout == "single annotation file" and list_splits(file) == ["labels"]
    expected(ds, "val")
    # annotations/instances_x.json given directly finds the images the official way
    expected(load_dataset(root / "annotations" / "instances_val2017.json", "whatever"), "val")
    with pytest.raises(DataError, match="an images folder applies to COCO"):
        load_dataset(yolo_ultralytics(tmp_path / "y"), images=root)


def test_coco_edge_cases(tmp_path: Path, build) -> None:
    # crowd -> ignore region; polygon without bbox; missing width/height; image without
    # annotations; float boxes; extra keys everywhere.
    path = build.coco(tmp_path, [
        {**build.ann([1.5, 2.25, 10, 10]), "extra": {"a": 1}},
        {**build.ann([20, 20, 30, 20], 2, ann_id=8), "iscrowd": 1,
         "segmentation": {"counts": "abc", "size": [48, 64]}},
        {"id": 9, "image_id": 0, "category_id": 2, "segmentation": [[40, 5, 60, 5, 50, 25]]},
    ], images=[{"id": 0, "file_name": "a.png", "flickr_url": "x"},
               {"id": 1, "file_name": "b.png", "width": 64, "height": 48}])
    build.image(path.parent / "b.png")
    a, b = load_dataset(tmp_path).samples
    assert (a.width, a.height) == (64, 48)
    assert a.labels.tolist() == [0, 1] and a.ignore_labels.tolist() == [1]
    np.testing.assert_allclose(a.boxes, [[1.5, 2.25, 11.5, 12.25], [40, 5, 60, 25]])
    np.testing.assert_allclose(a.ignore_boxes, [[20, 20, 50, 40]])
    assert len(b.boxes) == 0 and len(b.ignore_boxes) == 0


def test_coco_bad_polygon_names_the_annotation(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [{"id": 4, "image_id": 0, "category_id": 1,
                                  "segmentation": {"counts": [1, 2]}}])
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path)
    assert f"{path}: annotation id 4 (image id 0, a.png): no 'bbox'" in str(info.value)


# --- VOC ----------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["parent", "VOCdevkit", "VOC2007"])
def test_voc_devkit_root_at_any_level(tmp_path: Path, level: str) -> None:
    voc_devkit(tmp_path)
    root = {"parent": tmp_path, "VOCdevkit": tmp_path / "VOCdevkit",
            "VOC2007": tmp_path / "VOCdevkit" / "VOC2007"}[level]
    assert detect_format(root) == "voc"
    assert list_splits(root) == ["train", "val", "trainval"]  # cat_train.txt is no split
    ds = load_dataset(root, "val")
    expected(ds)
    assert ds.layout.startswith("devkit") and "ImageSets/Main/val.txt (1 id;" in ds.source
    assert len(load_dataset(root, "trainval")) == 4


def test_voc_devkit_coordinates_are_one_based(tmp_path: Path) -> None:
    voc_devkit(tmp_path)
    xml = tmp_path / "VOCdevkit" / "VOC2007" / "Annotations" / "a.xml"
    xml.write_text(xml.read_text().replace("<xmin>5</xmin>", "<xmin>1</xmin>"))
    sample = load_dataset(tmp_path).samples[0]  # xmin 1 = the first pixel column
    assert sample.boxes[:, 0].min() == 0


def test_voc_years_combine_and_can_be_picked(tmp_path: Path) -> None:
    voc_devkit(tmp_path, "VOC2007", {"train": SPLITS["train"]})
    voc_devkit(tmp_path, "VOC2012", {"val": SPLITS["val"]})
    assert list_splits(tmp_path) == ["train", "val", "trainval"]
    both = load_dataset(tmp_path, "trainval")
    assert sorted(s.image_path.name for s in both.samples) == ["a.jpg", "b.png", "c.jpg", "d.jpg"]
    assert "VOC2007" in both.source and "VOC2012" in both.source
    assert len(load_dataset(tmp_path, "VOC2012/trainval")) == 1
    expected(load_dataset(tmp_path, "VOC2012/val"), "val")


def test_voc_devkit_without_image_sets_and_image_by_id(tmp_path: Path) -> None:
    voc_devkit(tmp_path)
    base = tmp_path / "VOCdevkit" / "VOC2007"
    for file in (base / "ImageSets" / "Main").iterdir():
        file.unlink()
    # the devkit names images by id: a <filename> with another extension still finds it
    xml = base / "Annotations" / "d.xml"
    xml.write_text(xml.read_text().replace("<filename>d.jpg", "<filename>d.jpeg"))
    assert list_splits(tmp_path) == ["all"]
    assert len(load_dataset(tmp_path, "all")) == 4


def test_voc_devkit_bad_split_line(tmp_path: Path) -> None:
    voc_devkit(tmp_path)
    main = tmp_path / "VOCdevkit" / "VOC2007" / "ImageSets" / "Main"
    (main / "val.txt").write_text("d\n\nmissing_one\n")
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path, "val")
    assert f"{main / 'val.txt'}: line 3: no annotation file for id 'missing_one'" in str(
        info.value)


def test_voc_difficult_flag_must_be_a_flag(tmp_path: Path, build) -> None:
    xml = build.voc(tmp_path, "<object><name>cat</name><difficult>maybe</difficult><bndbox>"
                              "<xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax>"
                              "</bndbox></object>")
    with pytest.raises(DataError) as info:
        load_dataset(tmp_path)
    assert f"{xml}: object 0 of a.png: <difficult> must be 0 or 1" in str(info.value)


# --- images -------------------------------------------------------------------------------

def test_image_modes_extensions_and_symlinks(tmp_path: Path) -> None:
    from sdk.data import load_image

    root = tmp_path / "ds"
    img = SPLITS["val"][0]
    for mode, name in (("L", "gray.png"), ("CMYK", "cmyk.JPG"), ("P", "pal.PNG"),
                       ("RGBA", "alpha.png"), ("LA", "gray_alpha.png")):
        image(root / "pics" / "images" / "train" / name, img.width, img.height, mode)
        assert load_image(root / "pics" / "images" / "train" / name).shape == (64, 64, 3)
    # a symlinked image and a symlinked folder (labels follow the path as written)
    image(tmp_path / "store" / "real.jpg", 64, 64)
    os.symlink(tmp_path / "store" / "real.jpg", root / "pics" / "images" / "train" / "link.jpg")
    os.symlink(tmp_path / "store", root / "pics" / "images" / "train" / "linked_dir")
    labels = root / "pics" / "labels" / "train"
    (labels / "linked_dir").mkdir(parents=True)
    (labels / "linked_dir" / "real.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (labels / "cmyk.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: pics\ntrain: images/train\nnames: [cat, dog]\n")
    ds = load_dataset(root)
    names = sorted(str(s.image_path.relative_to(root / "pics" / "images" / "train"))
                   for s in ds.samples)
    assert names == ["alpha.png", "cmyk.JPG", "gray.png", "gray_alpha.png", "link.jpg",
                     "linked_dir/real.jpg", "pal.PNG"]
    counts = {str(s.image_path.name): len(s.boxes) for s in ds.samples}
    assert counts["real.jpg"] == 1 and counts["cmyk.JPG"] == 1 and counts["link.jpg"] == 0


def test_voc_upper_case_image_extension(tmp_path: Path) -> None:
    img = SPLITS["val"][0]
    image(tmp_path / "train" / "D.JPG", img.width, img.height)
    # <filename> says d.jpg; the file is D.JPG (written on a case-insensitive system)
    (tmp_path / "train" / "D.xml").write_text(voc_xml(img, one_based=False))
    ds = load_dataset(tmp_path)
    assert ds.samples[0].image_path.name == "D.JPG"
