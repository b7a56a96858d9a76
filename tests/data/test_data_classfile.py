"""data.yaml / classes.txt parsing, with and without PyYAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdk.data import DataError
from sdk.data.classfile import format_data_yaml, parse_simple_yaml, read_class_list, read_data_yaml

ROBOFLOW_YAML = """\
train: ../train/images
val: ../valid/images

nc: 3
names: ['circle', "it's", 'a, b']  # trailing comment

roboflow:
  workspace: demo
  url: https://universe.roboflow.com/demo#x
"""


@pytest.mark.parametrize(("text", "names"), [
    (ROBOFLOW_YAML, ["circle", "it's", "a, b"]),
    ("names:\n- a\n- b\n", ["a", "b"]),
    ("names:\n  - a\n  - 'b c'\nnc: 2\n", ["a", "b c"]),
    ("names:\n  0: a\n  1: b\n", ["a", "b"]),
    ("names: {1: b, 0: a}\n", ["a", "b"]),
])
def test_read_data_yaml(tmp_path: Path, parser: str, text: str, names: list[str]) -> None:
    (tmp_path / "data.yaml").write_text(text)
    assert read_data_yaml(tmp_path / "data.yaml") == names


def test_written_yaml_reads_back(tmp_path: Path, parser: str) -> None:
    classes = ["a", "it's", "c, d", "#e"]
    (tmp_path / "data.yaml").write_text(format_data_yaml(classes, ["train", "valid"]))
    assert read_data_yaml(tmp_path / "data.yaml") == classes


@pytest.mark.parametrize(("text", "problem"), [
    ("names: {0: a, 2: b}\n", "ids must be 0..1"),
    ("names: [a, a]\n", "duplicate class name"),
    ("nc: 2\n", "missing class names"),
])
def test_bad_data_yaml(tmp_path: Path, parser: str, text: str, problem: str) -> None:
    (tmp_path / "data.yaml").write_text(text)
    with pytest.raises(DataError, match=problem):
        read_data_yaml(tmp_path / "data.yaml")


def test_simple_parser_names_the_bad_line() -> None:
    with pytest.raises(DataError, match="x.yaml: line 2: expected 'key: value'"):
        parse_simple_yaml("nc: 1\njust text\n", Path("x.yaml"))


def test_class_list(tmp_path: Path) -> None:
    (tmp_path / "classes.txt").write_text("cat\n\n dog \n")
    assert read_class_list(tmp_path / "classes.txt") == ["cat", "dog"]
    (tmp_path / "classes.txt").write_text("\n")
    with pytest.raises(DataError, match="no class names"):
        read_class_list(tmp_path / "classes.txt")
