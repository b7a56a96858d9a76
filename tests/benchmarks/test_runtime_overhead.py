"""Smoke test: ``benchmarks.runtime_overhead`` runs end to end on the tiny model."""

from __future__ import annotations

import math

import pytest

from tests.benchmarks.reports import load_report

pytestmark = pytest.mark.slow


def test_runtime_overhead_writes_a_report(tiny_fast, tiny_data, bench_exports, tmp_path, capsys):
    from benchmarks import runtime_overhead

    out = tmp_path / "runtime_overhead.json"
    runtime_overhead.main(["--models", str(tiny_fast), "accurate-not-here", "--threads", "1",
                           "--runs", "2", "--warmup", "1", "--data", str(tiny_data),
                           "--exports", str(bench_exports), "--out", str(out)])
    report = load_report(out, "runtime_overhead")
    names = ("few", "many", "many@")
    assert sorted((r["quantization"][:4], r["image"]["name"][:5]) for r in report["rows"]) == [
        (q, n) for q in ("fp32", "int8") for n in names]
    for row in report["rows"]:
        assert row["runs"] == 2 and row["threads"] == 1
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in ("e2e_ms", "bare_ms", "ratio"))
        assert set(row["stages_ms"]) == {"preprocess", "inference", "readback", "postprocess"}
    assert any("accurate-not-here: skipped" in n for n in report["notes"])
    assert "| e2e/bare |" in capsys.readouterr().out


def test_findings_say_what_inference_time_the_fixed_cost_needs():
    from benchmarks.runtime_overhead import findings

    row = {"model": "fast", "quantization": "fp32", "threads": 2, "e2e_ms": 4.5,
           "bare_ms": 1.5, "meets_target": False,
           "image": {"name": "many", "size": [556, 453]}}
    (line,) = findings([row, {**row, "image": {"name": "few", "size": [556, 453]}}])
    assert "3.0 ms of pre/post-processing per 556x453 frame" in line
    assert "needs inference of 20 ms or more" in line and "(missed)" in line
