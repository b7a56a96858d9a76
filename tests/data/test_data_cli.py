"""``sdk data synth | check | convert`` through click's CliRunner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sdk.cli import main
from sdk.commands.data import FORMAT_NAMES, data
from sdk.data import FORMATS, load_dataset


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


def test_command_module_import_is_light() -> None:
    code = ("import sys, sdk.commands.data; "
            "print(sorted(m for m in ('skimage', 'numpy', 'PIL', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
