"""Smoke tests of ``python -m benchmarks.quantization_table``: matrix JSONs in, ratios out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.reports import run_script, script_output
from tests.benchmarks.tiny_matrix import fake_row, tiny_matrices


def _run(*args: str) -> str:
    return script_output("quantization_table", *args, timeout=120)


def test_ratios_against_each_formats_reference(tmp_path: Path):
    rows = [fake_row("tflite", "fp32", 4.0, 10.0, 0.5, 0.2),
            fake_row("tflite", "int8 -> int8_float_head", 1.0, 5.0, 0.48, 0.18),
            fake_row("coreml", "fp16", 2.0, None, None, status="unchecked"),
            fake_row("coreml", "palettize4", 0.5, None, None, status="unchecked")]
    matrix = tmp_path / "fast-matrix.json"
    matrix.write_text(json.dumps({"title": "t", "rows": rows}))
    out = tmp_path / "q.json"
    printed = _run(str(matrix), "--out", str(out))
    got = {(r["format"], r["quantization"]): r for r in json.loads(out.read_text())["rows"]}
    int8 = got[("tflite", "int8 -> int8_float_head")]
    assert (int8["vs"], int8["speedup"], int8["size_ratio"]) == ("fp32", 2.0, 0.25)
    assert int8["delta_mAP_pt"] == 2.0 and int8["AP_small"] == 0.18
    palette = got[("coreml", "palettize4")]
    assert (palette["vs"], palette["size_ratio"], palette["speedup"]) == ("fp16", 0.25, None)
    assert "| fast | tflite | int8 -> int8_float_head | fp32 |" in printed
    assert not list(tmp_path.glob(".q.json.*"))  # atomic write left no temp file


def test_not_a_matrix_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "fast-matrix.json"
    bad.write_text("[]")
    done = run_script("quantization_table", str(bad), timeout=120)
    assert done.returncode != 0 and "not an export matrix" in done.stderr


@pytest.mark.slow
def test_runs_on_real_tiny_matrices(tmp_path_factory, tiny_data, tiny_fast, tiny_accurate):
    paths = tiny_matrices(tmp_path_factory.getbasetemp() / "bench-matrices", tiny_data,
                          {"fast": tiny_fast, "accurate": tiny_accurate})
    out = tmp_path_factory.mktemp("q") / "q.json"
    _run(str(paths["fast"]), str(paths["accurate"]), "--out", str(out))
    rows = json.loads(out.read_text())["rows"]
    assert {r["model"] for r in rows} == {"fast", "accurate"}
    int8 = [r for r in rows if r["format"] == "tflite" and r["quantization"].startswith("int8")]
    assert len(int8) == 4 and all(r["speedup"] > 0 and r["size_ratio"] < 1 for r in int8)
    assert all(r["latency_runs"] == 3 for r in rows if r["format"] == "tflite")
