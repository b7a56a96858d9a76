"""Smoke test: ``benchmarks.hardware_limit`` runs end to end on the tiny model."""

from __future__ import annotations

import pytest

from tests.benchmarks.reports import load_report

pytestmark = pytest.mark.slow


def test_hardware_limit_writes_a_report(tiny_fast, bench_exports, tmp_path):
    from benchmarks import hardware_limit

    out = tmp_path / "hardware_limit.json"
    hardware_limit.main(["--models", str(tiny_fast), "--threads", "1", "--runs", "1",
                         "--per-round", "2", "--matmul-size", "128", "--exports",
                         str(bench_exports), "--out", str(out)])
    report = load_report(out, "hardware_limit")
    peak = report["cpu_peak"]
    assert peak["flops_per_cycle_per_core"] in (8, 16, 32, 64) and peak["clock_ghz"] > 0
    (row,) = report["rows"]
    assert row["gflops_per_inference"] > 0 and row["inferences_per_s"] > 0
    assert row["peak_derived_gflops_per_s"] == pytest.approx(
        peak["clock_ghz"] * peak["flops_per_cycle_per_core"])
    assert 0 < row["fraction_of_derived_peak"] and 0 < row["fraction_of_matmul_peak"]
