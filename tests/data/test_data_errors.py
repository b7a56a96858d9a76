"""Every kind of bad data raises DataError naming the file, the entry and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.data import DataError, load_dataset, load_image


def _error(root: Path, split: str = "train") -> str:
    with pytest.raises(DataError) as info:
        load_dataset(root, split)
    return str(info.value)


def test_coco_missing_image(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [build.ann([1, 1, 5, 5])])
    (path.parent / "a.png").unlink()
    message = _error(tmp_path)
    assert str(path) in message and "image id 0 (a.png)" in message and "not found" in message


def test_coco_corrupt_image(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [])
    (path.parent / "a.png").write_bytes(b"definitely not a png")
    message = _error(tmp_path)
    assert str(path) in message and "image id 0 (a.png)" in message and "unreadable" in message


def test_load_image_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataError, match="bad.jpg: cannot decode"):
        load_image(tmp_path / "bad.jpg")


def test_load_image_truncated(tmp_path: Path, build) -> None:
    path = build.image(tmp_path / "t.jpg", 64, 64)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="t.jpg: cannot decode"):
        load_image(path)


def test_coco_size_mismatch(tmp_path: Path, build) -> None:
    build.coco(tmp_path, [], images=[{"id": 0, "file_name": "a.png", "width": 60, "height": 48}])
    assert "image id 0 (a.png): annotation says 60x48 but the image is 64x48" in _error(tmp_path)


@pytest.mark.parametrize(("bbox", "problem"), [
    ([10, 10, 60, 10], "outside the 64x48 image"),
    ([-5, 0, 10, 10], "outside the 64x48 image"),
    ([1, 1, 0, 5], "non-positive width or height"),
    ([1, 1, 5, -2], "non-positive width or height"),
    ([1, 1, 5], "must be 4 numbers"),
    ([1, "a", 5, 5], "must be 4 numbers"),
])
def test_coco_bad_boxes(tmp_path: Path, build, bbox: list, problem: str) -> None:
    path = build.coco(tmp_path, [build.ann(bbox) if len(bbox) == 4 else
                                 {"id": 7, "image_id": 0, "category_id": 1, "bbox": bbox}])
    message = _error(tmp_path)
    assert str(path) in message and "annotation id 7 (image id 0, a.png)" in message
    assert problem in message


def test_coco_unknown_category_and_image(tmp_path: Path, build) -> None:
    build.coco(tmp_path, [build.ann([1, 1, 5, 5], category=5)])
    assert "annotation id 7 (image id 0, a.png): unknown category id 5" in _error(tmp_path)
    build.coco(tmp_path, [build.ann([1, 1, 5, 5], image_id=3)])
    assert "annotation id 7: unknown image id 3" in _error(tmp_path)


def test_coco_bad_json_names_line(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [])
    path.write_text('{\n "images": [\n  {"id": 0,}\n ]\n}')
    message = _error(tmp_path)
    assert str(path) in message and "line 3, column" in message and "invalid JSON" in message


def test_coco_missing_section_and_duplicate_ids(tmp_path: Path, build) -> None:
    path = build.coco(tmp_path, [])
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in doc.items() if k != "images"}))
    assert "'images': missing or not a list" in _error(tmp_path)
    doc["images"].append(dict(doc["images"][0]))
    path.write_text(json.dumps(doc))
    assert "image id 0 (a.png): duplicate image id" in _error(tmp_path)


def test_missing_split_lists_the_found_ones(tmp_path: Path, build) -> None:
    build.coco(tmp_path, [])
    message = _error(tmp_path, "test")
    assert str(tmp_path) in message and "split 'test'" in message and "found: train" in message


def test_unknown_layout_and_missing_root(tmp_path: Path) -> None:
    assert "unknown dataset layout" in _error(tmp_path)
    assert "dataset folder not found" in _error(tmp_path / "nope")
    with pytest.raises(DataError, match="unknown format 'tfrecord'"):
        load_dataset(tmp_path, fmt="tfrecord")


def test_yolo_class_out_of_range(tmp_path: Path, build) -> None:
    label = build.yolo(tmp_path, "0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n")
    message = _error(tmp_path)
    assert f"{label}: line 2: class index 2 is not in 0..1" in message


@pytest.mark.parametrize(("line", "problem"), [
    ("0 0.5 0.5 0.1", "expected 5 fields 'class cx cy w h', got 4"),
    ("0 0.1 0.2 0.3 0.4 0.5", "expected 5 fields"),  # 7+ odd fields are a polygon
    ("0 0.5 x 0.1 0.1", "non-numeric field"),
    ("0.5 0.5 0.5 0.1 0.1", "class index 0.5 is not in 0..1"),
    ("0 0.5 0.5 1.5 0.1", "outside the 64x48 image"),
    ("0 0.5 0.5 0 0.1", "non-positive width or height"),
])
def test_yolo_malformed_lines(tmp_path: Path, build, line: str, problem: str) -> None:
    label = build.yolo(tmp_path, f"1 0.5 0.5 0.2 0.2\n\n{line}\n")
    message = _error(tmp_path)
    assert f"{label}: line 3: " in message and problem in message


def test_yolo_corrupt_image(tmp_path: Path, build) -> None:
    build.yolo(tmp_path, "")
    image = tmp_path / "train" / "images" / "a.jpg"
    image.write_bytes(b"GIF89a nonsense")
    assert f"{image}: unreadable image (" in _error(tmp_path)


def test_yolo_nc_mismatch_and_missing_names(tmp_path: Path, build) -> None:
    build.yolo(tmp_path, "", names="nc: 3\nnames: [a, b]\n")
    assert "data.yaml: 'nc': nc is 3 but 2 names are given" in _error(tmp_path)
    (tmp_path / "data.yaml").write_text("nc: 3\n")
    assert "data.yaml: 'names': missing class names" in _error(tmp_path)


def test_voc_unknown_class(tmp_path: Path, build) -> None:
    objects = build.voc_object("cat", (1, 1, 5, 5)) + build.voc_object("emu", (1, 1, 5, 5))
    xml = build.voc(tmp_path, objects)
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    message = _error(tmp_path)
    assert f"{xml}: object 1 of a.png: unknown class 'emu'" in message


def test_voc_missing_tags(tmp_path: Path, build) -> None:
    xml = build.voc(tmp_path, "<object><name>cat</name></object>")
    assert f"{xml}: object 0 of a.png: missing tag <bndbox>" in _error(tmp_path)
    build.voc(tmp_path, "<object><name>cat</name><bndbox><xmin>1</xmin></bndbox></object>")
    assert "missing tag <ymin>" in _error(tmp_path)
    xml.write_text("<annotation><size/></annotation>")
    assert f"{xml}: <annotation>: missing tag <filename>" in _error(tmp_path)


def test_voc_bad_box_missing_image_and_malformed_xml(tmp_path: Path, build) -> None:
    xml = build.voc(tmp_path, build.voc_object("cat", (1, 1, 70, 5)))
    assert f"{xml}: object 0 of a.png: box [1, 1, 70, 5] lies outside" in _error(tmp_path)
    build.voc(tmp_path, "", filename="gone.png")
    assert f"{xml}: <filename> gone.png: image file not found" in _error(tmp_path)
    xml.write_text("<annotation>\n<filename>a.png</filename>\n<object>\n</annotation>")
    message = _error(tmp_path)
    assert str(xml) in message and "line 4, column" in message and "malformed XML" in message
