"""Smoke tests of ``python -m benchmarks.tradeoff``: headline ratios, Pareto frontier, PNG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks.reports import script_output
from tests.benchmarks.tiny_matrix import fake_row, tiny_matrices

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> str:
    return script_output("tradeoff", *args)


def test_headline_and_frontier_from_matrix_latencies(tmp_path: Path):
    fast = [fake_row("tflite", "fp32", 3.0, 10.0, 0.30, 0.05),
            fake_row("tflite", "int8", 1.0, 6.0, 0.29, 0.04),
            fake_row("tflite", "int8_dynamic", 1.0, 30.0, 0.28, 0.04),  # slower and worse
            fake_row("tfjs", "fp32", 3.0, 50.0, 0.30, 0.05)]  # another format: not plotted
    accurate = [fake_row("tflite", "fp32", 6.0, 25.0, 0.40, 0.15),
                fake_row("tflite", "int8", 2.0, 12.0, 0.38, 0.12)]
    for name, rows in (("fast", fast), ("accurate", accurate)):
        (tmp_path / f"{name}-matrix.json").write_text(json.dumps({"title": name, "rows": rows}))
    out, png = tmp_path / "t.json", tmp_path / "t.png"
    printed = _run(str(tmp_path / "fast-matrix.json"), str(tmp_path / "accurate-matrix.json"),
                   "--latency", "matrix", "--out", str(out), "--plot", str(png))
    report = json.loads(out.read_text())
    fp32 = next(h for h in report["headline"] if h["quantization"] == "fp32")
    assert (fp32["speed_ratio"], fp32["mAP_gap_pt"], fp32["AP_small_gap_pt"]) == (2.5, 10.0, 10.0)
    frontier = {p["label"] for p in report["points"] if p["pareto"]}
    assert frontier == {"fast int8", "fast fp32", "accurate int8", "accurate fp32"}
    assert len(report["points"]) == 5
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "fast is 2.50x faster than accurate (fp32)" in printed


@pytest.mark.slow
def test_measures_real_tiny_exports(tmp_path_factory, tiny_data, tiny_fast, tiny_accurate):
    paths = tiny_matrices(tmp_path_factory.getbasetemp() / "bench-matrices", tiny_data,
                          {"fast": tiny_fast, "accurate": tiny_accurate})
    tmp = tmp_path_factory.mktemp("tradeoff")
    _run(str(paths["fast"]), str(paths["accurate"]), "--rounds", "1", "--per-round", "2",
         "--threads", "1", "--out", str(tmp / "t.json"), "--plot", str(tmp / "t.png"))
    report = json.loads((tmp / "t.json").read_text())
    assert len(report["points"]) == 8 and all(p["runs"] == 2 for p in report["points"])
    assert {h["quantization"] for h in report["headline"]} == {
        "fp32", "fp16", "int8_dynamic", "int8"}
    assert any(p["pareto"] for p in report["points"])
    assert (tmp / "t.png").read_bytes()[:8] == PNG_MAGIC
