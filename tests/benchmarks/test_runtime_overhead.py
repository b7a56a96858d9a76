"""Smoke test: ``benchmarks/runtime_overhead.py`` runs end to end on the tiny model."""

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
