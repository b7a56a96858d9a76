"""``sdk recommend`` against a real collector served over HTTP on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from benchmarks.example_reports import example_report, with_latency
from device_bench import create_app
from device_bench.db import shutdown
from sdk.bench.recommend import pick
from sdk.cli import main

METRICS = {"fast/tfjs/fp16": {"map": 0.30}, "fast/tfjs/uint8": {"map": 0.29},
           "accurate/tfjs/fp16": {"map": 0.41}}


@pytest.fixture
def server(tmp_path) -> Iterator[str]:
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}",
                      "RATE_LIMIT_PER_MINUTE": 0, "KNOWN_MODEL_HASHES": None,
                      "MIN_REPORTS": 1, "MODEL_METRICS": METRICS})
    client = app.test_client()
    # iPhone: fast fp16 at 40 FPS, fast uint8 at 45 FPS, accurate at 12 FPS; a Pixel at 60 FPS
    for device, model, quant, p50 in [("iPhone 15", "fast", "fp16", 25.0),
                                      ("iPhone 15", "fast", "uint8", 22.2),
                                      ("iPhone 13", "accurate", "fp16", 83.3),
                                      ("Pixel 7", "accurate", "fp16", 16.6)]:
        report = with_latency(example_report({"device": {"name": device}, "model": {
            "name": model, "format": "tfjs", "quantization": quant}}), p50)
        assert client.post("/api/v1/reports", json=report).status_code == 201
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    shutdown(app)


def _recommend(server: str, *args: str):
    return CliRunner().invoke(main, ["recommend", "--server", server, *args])


def test_picks_the_most_accurate_variant_fast_enough_on_matching_devices(server):
    result = _recommend(server, "--device", "iPhone", "--min-fps", "30", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    # accurate is more accurate but only 12 FPS on iPhones; fp16 beats uint8 on mAP
    assert row["variant"] == "fast/tfjs/fp16" and row["reports"] == 1
    assert row["median_fps"] == pytest.approx(40, rel=0.01)


def test_a_low_budget_lets_accurate_win(server):
    result = _recommend(server, "--device", "iphone", "--min-fps", "10", "--json")
    assert json.loads(result.output)[0]["variant"] == "accurate/tfjs/fp16"


def test_model_restricts_the_answer_to_one_models_variants(server):
    """Models evaluated on different datasets (COCO NanoDet vs synthetic Fast) have mAPs
    that do not compare: --model asks about one of them."""
    result = _recommend(server, "--device", "iphone", "--min-fps", "10", "--model", "fast",
                        "--json")
    assert json.loads(result.output)[0]["variant"] == "fast/tfjs/fp16"
    result = _recommend(server, "--device", "iphone", "--min-fps", "30", "--model", "accurate")
    assert result.exit_code == 1 and "accurate/tfjs/fp16" in " ".join(result.output.split())


def test_impossible_budget_is_a_clear_error(server):
    result = _recommend(server, "--device", "iPhone", "--min-fps", "500")
    assert result.exit_code == 1 and "no variant" in result.output


def test_the_recommendation_names_format_quantization_and_engine(tmp_path):
    """One export, two engines on the same device: the faster engine is named, and the slower
    one is not averaged into it."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite'}",
                      "RATE_LIMIT_PER_MINUTE": 0, "KNOWN_MODEL_HASHES": None,
                      "MIN_REPORTS": 1, "MODEL_METRICS": {"fast/onnx/int8": {"map": 0.28}}})
    client = app.test_client()
    for engine, backend, p50 in [("ort", "wasm", 50.0), ("onnxruntime", "cpu", 20.0)]:
        report = with_latency(example_report({
            "device": {"name": "ThinkPad"}, "runtime": {"name": engine, "backend": backend},
            "model": {"name": "fast", "format": "onnx", "quantization": "int8"}}), p50)
        assert client.post("/api/v1/reports", json=report).status_code == 201
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_port}"
        (row,) = json.loads(_recommend(url, "--device", "thinkpad", "--min-fps", "30",
                                       "--json").output)
        assert (row["variant"], row["format"], row["quantization"], row["runtime"]) == (
            "fast/onnx/int8", "onnx", "int8", "onnxruntime")
        assert row["median_fps"] == pytest.approx(50) and row["reports"] == 1  # not merged
        text = _recommend(url, "--device", "thinkpad", "--min-fps", "100").output
        assert "fast/onnx/int8 on onnxruntime" in " ".join(text.split())
    finally:
        httpd.shutdown()
        shutdown(app)


def test_unreachable_server(tmp_path):
    result = _recommend("http://127.0.0.1:9", "--device", "x", "--min-fps", "1")
    assert result.exit_code == 1 and "cannot read variants" in result.output


def test_pick_ignores_variants_without_accuracy():
    rows = [{"variant": "a", "map": None, "median_fps": 99, "count": 1, "devices": 1},
            {"variant": "b", "map": 0.2, "median_fps": 31, "count": 2, "devices": 1}]
    assert pick(rows, 30).variant == "b" and pick(rows, 50) is None
