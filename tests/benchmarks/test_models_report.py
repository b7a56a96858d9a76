"""Smoke test: ``benchmarks.models_report`` (the MODELS.md table) runs end to end."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_models_report_measures_both_models_side_by_side(tiny_fast, tiny_accurate, tiny_data,
                                                         tmp_path, capsys):
    from benchmarks import models_report

    models_report.main(["--models", str(tiny_fast), str(tiny_accurate), "--data",
                        str(tiny_data), "--rounds", "1", "--threads", "1",
                        "--out", str(tmp_path)])
    report = json.loads((tmp_path / "models_report.json").read_text())
    fast, accurate = (report["models"][str(m)] for m in (tiny_fast, tiny_accurate))
    assert 0 < fast["GFLOPs"] < accurate["GFLOPs"]
    assert fast["tflite_fp32_p50_ms"] > 0 and accurate["tflite_fp32_p50_ms"] > 0
    assert {"mAP", "AP50_small", "AP50_medium", "AP50_large"} <= set(fast)
    assert fast["train_min"] is None  # the tiny models' cards record no training
    assert {"simd", "cpu", "cores"} <= set(report["machine"])
    table = capsys.readouterr().out
    assert "AP50_medium" in table and table.count(f"| {tiny_fast} |") == 2


def test_training_time_comes_from_the_model_card(tmp_path):
    from benchmarks.models_report import training_time

    (tmp_path / "model_card.json").write_text(json.dumps(
        {"options": {"epochs": 32}, "train_seconds": 4932.3}))
    assert training_time(tmp_path) == {"epochs": 32, "train_min": 82.2}
