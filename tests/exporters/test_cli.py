"""``sdk export``: error messages and exit codes, and one real run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdk.cli import main
from sdk.probes import probe_description
from sdk.spec import DetectorSpec


def _run(*args: str):
    return CliRunner().invoke(main, ["export", *args])


def test_unknown_format_lists_the_valid_ones():
    result = _run("--format", "pytorch")
    assert result.exit_code == 2
    assert "'pytorch' is not one of" in result.output and "onnx" in result.output


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
    assert spec.metrics["probes"] == probe_description()  # --data gives ΔmAP, not the probes


@pytest.mark.slow
@pytest.mark.usefixtures("wrong_normalization")
def test_over_budget_exits_3_with_the_report(confident_fast: Path, tmp_path: Path):
    result = _run("--format", "tflite", "--model", str(confident_fast), "--out", str(tmp_path),
                  "--latency-runs", "0")
    assert result.exit_code == 3, result.output
    assert "parity report" in result.output and "cosine" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def _files(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` with its modification time (ns)."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_skip_up_to_date_keeps_current_exports_and_rebuilds_stale_ones(confident_fast: Path,
                                                                       tmp_path: Path):
    """The `make demo` call: a list of quantizations, exported once, then kept."""
    args = ("--format", "tfjs", "--model", str(confident_fast), "--quantize", "fp32,fp16",
            "--out", str(tmp_path), "--skip-up-to-date", "--latency-runs", "0", "--json")
    first = _run(*args)
    assert first.exit_code == 0, first.output
    rows = json.loads(first.stdout)["rows"]
    assert [(r["quantization"], r["status"]) for r in rows] == [("fp32", "ok"), ("fp16", "ok")]
    folders = [Path(r["out_dir"]) for r in rows]
    before = {f.name: _files(f) for f in folders}

    again = _run(*args)
    assert again.exit_code == 0, again.output
    rows = json.loads(again.stdout)["rows"]
    assert [r["status"] for r in rows] == ["up-to-date", "up-to-date"]
    assert rows[0]["parity"] == "pass" and rows[0]["size_mb"] > 0
    assert {f.name: _files(f) for f in folders} == before  # not rewritten

    spec_file = folders[1] / "detector.json"  # as if exported by another sdk version
    spec = json.loads(spec_file.read_text())
    spec["provenance"]["sdk_version"] = "0.0.0-old"
    spec_file.write_text(json.dumps(spec))
    third = _run(*args)
    assert third.exit_code == 0, third.output
    assert [r["status"] for r in json.loads(third.stdout)["rows"]] == ["up-to-date", "ok"]
    assert _files(folders[0]) == before[folders[0].name]
    assert DetectorSpec.load(spec_file).provenance["sdk_version"] != "0.0.0-old"


def test_skip_up_to_date_does_not_replace_a_folder_that_is_no_export(confident_fast: Path,
                                                                     tmp_path: Path):
    (tmp_path / "fast-tfjs-fp32").mkdir()
    (tmp_path / "fast-tfjs-fp32" / "mine.txt").write_text("keep me")
    result = _run("--format", "tfjs", "--model", str(confident_fast), "--out", str(tmp_path),
                  "--skip-up-to-date")
    assert result.exit_code == 1 and "already exists: pass --force" in result.output
    assert (tmp_path / "fast-tfjs-fp32" / "mine.txt").read_text() == "keep me"
