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
    for quant in ("fp32", "int8"):
        names = [r["image"]["name"] for r in report["rows"] if r["quantization"][:4] == quant]
        assert names[:3] == ["few", "many", "many@640x480"] and len(names) == 4
        assert names[3].startswith("many@")  # pre-scaled to the model input
    for row in report["rows"]:
        assert row["runs"] == 2 and row["threads"] == 1
        assert set(row["variants"]) == {"float", "uint8"}
        for cell in row["variants"].values():
            assert all(math.isfinite(cell[k]) and cell[k] > 0
                       for k in ("e2e_ms", "bare_ms", "ratio"))
            assert math.isfinite(cell["overhead_ms"])
            assert set(cell["stages_ms"]) == {"preprocess", "inference", "readback",
                                              "postprocess"}
        assert math.isfinite(row["variants"]["uint8"]["overhead_vs_float_bare_ms"])
    assert any("accurate-not-here: skipped" in n for n in report["notes"])
    assert "| overhead ms |" in capsys.readouterr().out


def test_findings_compare_the_640x480_overhead_with_the_target():
    from benchmarks.runtime_overhead import findings

    def cell(overhead: float) -> dict:
        return {"overhead_ms": overhead, "bare_ms": 1.5, "meets_target": overhead <= 0.5,
                "stages_ms": {"preprocess": overhead - 0.2, "postprocess": 0.2}}

    row = {"model": "fast", "quantization": "fp32", "threads": 2,
           "image": {"name": "many@640x480", "size": [640, 480]},
           "variants": {"float": cell(1.9), "uint8": cell(0.45)}}
    lines = findings([row, {**row, "image": {"name": "few", "size": [556, 453]}}])
    assert len(lines) == 2  # the 640x480 frame only, one line per variant
    assert "fp32 float 2t: detect() costs bare invoke + 1.90 ms" in lines[0]
    assert lines[0].endswith("missed)") and lines[1].endswith("met)")
