"""``sdk export``: error messages and exit codes, and one real run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdk.cli import main
from sdk.spec import DetectorSpec


def _run(*args: str):
    return CliRunner().invoke(main, ["export", *args])


def test_unknown_format_lists_the_valid_ones():
    result = _run("--format", "onnx")
    assert result.exit_code == 2
    assert "'onnx' is not one of" in result.output and "tflite" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "tfjs", "--quantize", "int8"],
     "tfjs does not support quantization 'int8'; valid for tfjs: fp32, fp16, uint8, uint16"),
    (["--format", "tflite", "--quantize", "fp16", "--int8-io"],
     "--int8-io needs a full-integer model"),
    (["--format", "tfjs", "--int8-io"], "tfjs does not take option(s) int8_io"),
    (["--format", "tflite", "--quantize", "int8"], "needs calibration images: pass --calib"),
    (["--format", "tflite", "--quantize", "int8", "--calib", "/nonexistent/calib"],
     "calibration folder not found"),
    (["--format", "all", "--quantize", "int3"], "valid for all: fp16, fp32, int8"),
])
def test_refused_before_loading_the_model(args: list[str], message: str, tmp_path: Path):
    # The model path does not exist: each refusal must come before the model is loaded.
    result = _run(*args, "--model", str(tmp_path / "no-model"), "--out", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_missing_model_path_says_what_a_model_folder_is(tmp_path: Path):
    result = _run("--format", "tflite", "--model", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "not a trained detector folder" in result.output and "sdk train" in result.output


def test_existing_output_needs_force(confident_fast: Path, tmp_path: Path):
    (tmp_path / "fast-tfjs-fp32").mkdir()
    (tmp_path / "fast-tfjs-fp32" / "model.json").write_text("{}")
    result = _run("--format", "tfjs", "--model", str(confident_fast), "--out", str(tmp_path))
    assert result.exit_code == 1 and "already exists: pass --force" in result.output


@pytest.mark.slow
def test_int8_export_with_data_end_to_end(confident_fast: Path, tiny_data: Path,
                                          tmp_path: Path):
    result = _run("--format", "tflite", "--quantize", "int8", "--model", str(confident_fast),
                  "--data", str(tiny_data), "--out", str(tmp_path), "--latency-runs", "2",
                  "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # converter chatter went to stderr
    (row,) = payload["rows"]
    assert row["status"] == "ok" and row["delta_mAP"] is not None and row["p50_ms"] > 0
    spec = DetectorSpec.load(row["out_dir"])
    assert spec.provenance["calibration_sha256"] and spec.metrics["eval"]["split"].endswith("val")


@pytest.mark.slow
@pytest.mark.usefixtures("wrong_normalization")
def test_over_budget_exits_3_with_the_report(confident_fast: Path, tmp_path: Path):
    result = _run("--format", "tflite", "--model", str(confident_fast), "--out", str(tmp_path),
                  "--latency-runs", "0")
    assert result.exit_code == 3, result.output
    assert "parity report" in result.output and "cosine" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written
