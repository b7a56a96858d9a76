"""The matrix over formats: one row per cell, skipped combinations, saved tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.matrix import run_matrix, write_tables


@pytest.mark.slow
def test_fp16_across_all_formats(source, tmp_path: Path):
    seen = []
    rows, skipped = run_matrix(source, "all", "fp16", tmp_path, latency_runs=2,
                               on_cell=seen.append)
    assert [(r["format"], r["quantization"]) for r in rows] == [
        ("tflite", "fp16"), ("tfjs", "fp16"), ("onnx", "fp16"), ("coreml", "fp16")]
    assert seen == rows and skipped == ["savedmodel has no fp16 (valid: fp32)",
                                        "mediapipe has no fp16 (valid: fp32, int8)"]
    assert all(r["status"] == "ok" and r["size_mb"] > 0 for r in rows), [
        (r["format"], r["status"], r["notes"]) for r in rows]
    assert rows[0]["p50_ms"] > 0 and rows[1]["p90_ms"] >= rows[1]["p50_ms"]

    json_path, md_path = write_tables(rows, tmp_path, source.name, "fp16 matrix")
    assert json.loads(json_path.read_text())["rows"][0]["format"] == "tflite"
    table = [line for line in md_path.read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(rows)


@pytest.mark.slow
def test_a_failing_cell_does_not_stop_the_others(source, tmp_path: Path):
    (tmp_path / f"{source.name}-tflite-fp32").mkdir()
    (tmp_path / f"{source.name}-tflite-fp32" / "model.tflite").write_bytes(b"mine")
    rows, _ = run_matrix(source, "savedmodel", "all", tmp_path)  # one cell that works
    assert rows[0]["status"] == "ok"
    rows, _ = run_matrix(source, "tflite", "fp32", tmp_path)
    assert rows[0]["status"] == "error" and "already exists" in rows[0]["notes"][0]
