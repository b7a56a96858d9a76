"""``sdk data synth | check | convert`` through click's CliRunner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sdk.cli import main
from sdk.commands.data import FORMAT_NAMES, LAYOUT_NAMES, data
from sdk.data import FORMATS, load_dataset
from sdk.data.layout import WRITE_LAYOUTS
from tests.data.builders import LAYOUT_BUILDERS, coco_official, expected


def _run(*args: str):
    return CliRunner().invoke(data, [str(a) for a in args])


def test_synth_then_check(tmp_path: Path) -> None:
    out = tmp_path / "shapes"
    result = _run("synth", "--out", out, "--seed", "2", "--train", "3", "--val", "1", "--test", "1")
    assert result.exit_code == 0, result.output
    assert "wrote 5 images" in result.output
    result = _run("check", out)
    assert result.exit_code == 0, result.output
    for word in ("coco", "train", "val", "test", "images", "class circle", "small", "large"):
        assert word in result.output
    result = _run("check", out, "--split", "val")
    assert result.exit_code == 0 and "train" not in result.output.split("\n", 2)[-1]


def test_synth_refuses_non_empty_out(synth_copy: Path) -> None:
    result = _run("synth", "--out", synth_copy, "--train", "1", "--val", "0", "--test", "0")
    assert result.exit_code == 1 and "already exists and is not empty" in result.output


def test_check_reports_bad_data(synth_copy: Path) -> None:
    (synth_copy / "val" / "000001.jpg").unlink()
    result = _run("check", synth_copy)
    assert result.exit_code == 1
    assert "_annotations.coco.json: image id 1 (000001.jpg)" in result.output
    assert "not found" in result.output
    result = _run("check", synth_copy, "--split", "nope")
    assert result.exit_code == 1 and "split 'nope'" in result.output


def test_convert(synth_root: Path, tmp_path: Path) -> None:
    result = _run("convert", synth_root, "--to", "voc", "--out", tmp_path / "voc")
    assert result.exit_code == 0, result.output
    assert "coco -> voc" in result.output and "train: 6 images" in result.output
    assert load_dataset(tmp_path / "voc", "test").format == "voc"
    again = _run("convert", synth_root, "--to", "voc", "--out", tmp_path / "voc")
    assert again.exit_code == 1 and "not empty" in again.output
    bad = _run("convert", synth_root, "--to", "tfrecord", "--out", tmp_path / "x")
    assert bad.exit_code == 2 and "tfrecord" in bad.output


def test_registered_in_the_main_cli(synth_root: Path) -> None:
    result = CliRunner().invoke(main, ["data", "check", str(synth_root), "--split", "train"])
    assert result.exit_code == 0, result.output


def test_format_choices_match_the_registry() -> None:
    assert set(FORMAT_NAMES) == set(FORMATS)
    assert LAYOUT_NAMES == WRITE_LAYOUTS


# What `sdk data check` says about each layout: the layout, then one line per split naming
# the files it came from.
CHECK_LINES = {
    "coco official": ["coco, official (annotations/instances_<split>.json) layout",
                      "train2017: {root}/annotations/instances_train2017.json (3 images, "
                      "3 objects, 1 crowd); images in {root}/train2017 (3)"],
    "coco roboflow": ["coco, Roboflow (<split>/_annotations.coco.json) layout",
                      "valid: {root}/valid/_annotations.coco.json (1 image"],
    "yolo ultralytics": ["yolo, Ultralytics (data.yaml) layout",
                         "train: 3 images from {root}/images/train (data.yaml 'train'); labels "
                         "in {root}/labels/train; 1 image without a label file"],
    "yolo roboflow": ["yolo, Roboflow (data.yaml, <split>/images, <split>/labels) layout",
                      "val: 1 image from {root}/valid/images (data.yaml 'val')"],
    "voc devkit": ["voc, devkit (Annotations/, JPEGImages/, ImageSets/Main/<split>.txt) layout",
                   "trainval: {root}/VOCdevkit/VOC2007/ImageSets/Main/trainval.txt (4 ids; "
                   "images in {root}/VOCdevkit/VOC2007/JPEGImages); 2 difficult objects"],
    "voc roboflow": ["voc, Roboflow (<split>/*.xml beside the images) layout",
                     "train: {root}/train (3 xml files); 1 difficult object"],
}


def test_check_names_the_layout_and_where_each_split_came_from(tmp_path: Path) -> None:
    for layout, build in LAYOUT_BUILDERS.items():
        root = build(tmp_path / layout.replace(" ", "_"))
        result = CliRunner().invoke(data, ["check", str(root)], terminal_width=400)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{root}: {CHECK_LINES[layout][0]}\n"), result.output
        assert CHECK_LINES[layout][1].format(root=root) in result.output, result.output
        assert "ignored (crowd, difficult)" in result.output


def test_check_and_convert_a_single_annotation_file(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    file = tmp_path / "labels.json"
    file.write_bytes((root / "annotations" / "instances_val2017.json").read_bytes())
    result = _run("check", file)
    assert result.exit_code == 1 and "image id 100 (d.jpg): image file not found" in result.output
    result = _run("check", file, "--images", root / "val2017")
    assert result.exit_code == 0, result.output
    assert "coco, single annotation file layout" in result.output
    result = _run("convert", file, "--images", root / "val2017", "--to", "voc", "--layout",
                  "standard", "--out", tmp_path / "voc")
    assert result.exit_code == 0, result.output
    assert "coco -> voc (standard)" in result.output and "labels: 1 images" in result.output
    expected(load_dataset(tmp_path / "voc", "labels"), "val")


def test_check_names_the_bad_line_of_a_yolo_image_list(tmp_path: Path) -> None:
    root = LAYOUT_BUILDERS["yolo ultralytics"](tmp_path / "ds")
    (root / "train.txt").write_text("./images/train/a.jpg\n./images/train/gone.jpg\n")
    (root / "data.yaml").write_text("train: train.txt\nnames: [cat, dog, emu]\n")
    result = _run("check", root, "--split", "train")
    assert result.exit_code == 1
    assert f"{root / 'train.txt'}: line 2: image not found: ./images/train/gone.jpg" in (
        " ".join(result.output.split()))


def test_convert_to_yolo_says_ignore_regions_are_dropped(tmp_path: Path) -> None:
    root = coco_official(tmp_path / "coco")
    result = _run("convert", root, "--to", "yolo", "--layout", "standard", "--out",
                  tmp_path / "yolo")
    assert result.exit_code == 0, result.output
    assert "2 ignore regions (crowd, difficult) were not written" in result.output
    assert (tmp_path / "yolo" / "images" / "train2017").is_dir()
    assert "train: images/train2017" in (tmp_path / "yolo" / "data.yaml").read_text()


def test_command_module_import_is_light() -> None:
    code = ("import sys, sdk.commands.data; "
            "print(sorted(m for m in ('skimage', 'numpy', 'PIL', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
