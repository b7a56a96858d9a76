"""Smoke test: ``benchmarks.export_cost`` runs end to end on the tiny model."""

from __future__ import annotations

import pytest

from tests.benchmarks.reports import load_report

pytestmark = pytest.mark.slow


def test_export_cost_writes_a_report(tiny_fast, tmp_path):
    from benchmarks import export_cost

    out = tmp_path / "export_cost.json"
    export_cost.main(["--model", str(tiny_fast), "--formats", "tflite", "--quantize", "fp32",
                      "--runs", "1", "--no-baseline", "--out", str(out),
                      "--extra", "--latency-runs", "0"])
    report = load_report(out, "export_cost")
    (row,) = report["rows"]
    assert (row["format"], row["quantization"], row["exit_codes"]) == ("tflite", "fp32", [0])
    assert row["status"] == "ok" and row["size_mb"] > 0
    assert row["wall_s"] > row["export_s"] > 0 and row["peak_rss_mb"] > 50
