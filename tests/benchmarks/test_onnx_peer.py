"""Smoke test: ``benchmarks.onnx_peer`` runs end to end on the tiny model."""

from __future__ import annotations

import pytest

from tests.benchmarks.reports import load_report

pytestmark = pytest.mark.slow


def test_onnx_peer_writes_a_report(tiny_fast, tiny_data, bench_exports, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    from benchmarks import onnx_peer

    out = tmp_path / "onnx_peer.json"
    onnx_peer.main(["--models", str(tiny_fast), "--threads", "1", "--runs", "2", "--warmup",
                    "1", "--data", str(tiny_data), "--exports", str(bench_exports),
                    "--out", str(out)])
    report = load_report(out, "onnx_peer")
    assert [(r["quantization"], r["threads"]) for r in report["rows"]] == [
        ("fp32", 1), ("fp16", 1), ("int8", 1)]
    fp32 = report["rows"][0]
    assert fp32["max_score_delta"]["ort_vs_litert"] < 1e-3  # same model, both fp32
    assert all(r["litert_ms"] > 0 and r["ort_ms"] > 0 and r["ort_over_litert"] > 0
               and r["faster"] in ("LiteRT", "ORT") for r in report["rows"])
    assert report["rows"][-1]["litert_xnnpack"]["partitions"] >= 1
    (exports,) = report["exports"].values()
    assert sorted(exports) == [f"{f}-{q}" for f in ("onnx", "tflite")
                               for q in ("fp16", "fp32", "int8")]


def test_int8_note_follows_the_cpu_flags():
    from benchmarks.onnx_peer import int8_note

    assert "VNNI present" in int8_note(True) and "no VNNI" in int8_note(False)
