"""``sdk recommend`` says why it cannot answer, against a real collector on loopback.

Reports carry their variant's mAP (``model.map``, from the export's detector.json) or not;
the collector has no MODEL_METRICS here, so an mAP is known only when reports carry it.
"""

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
from sdk.bench.recommend import Failure, explain
from sdk.cli import main

# device, model, quantization, p50 ms (FPS = 1000 / p50), mAP carried by the report
REPORTS = [("Pixel 7", "fast", "fp16", 40.0, 0.62),       # 25 FPS
           ("Pixel 7", "fast", "uint8", 38.0, 0.61),      # 26.3 FPS
           ("Pixel 7", "accurate", "fp16", 125.0, 0.78),  # 8 FPS
           ("iPhone 15", "fast", "fp16", 20.0, None)]     # 50 FPS, no mAP


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("recommend") / "b.sqlite"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}",
                      "RATE_LIMIT_PER_MINUTE": 0, "READ_RATE_LIMIT_PER_MINUTE": 0,
                      "KNOWN_MODEL_HASHES": None, "MIN_REPORTS": 1, "MODEL_METRICS": {}})
    client = app.test_client()
    for device, model, quant, p50, map_ in REPORTS:
        section = {"name": model, "format": "tfjs", "quantization": quant}
        if map_ is not None:
            section |= {"map": map_, "map_basis": "artifact"}
        report = with_latency(example_report({"device": {"name": device}, "model": section}),
                              p50)
        response = client.post("/api/v1/reports", json=report)
        assert response.status_code == 201, response.json
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    shutdown(app)


def _recommend(server: str, *args: str):
    return CliRunner().invoke(main, ["recommend", "--server", server, *args])


def _text(output: str) -> str:
    """The output with line breaks as spaces (messages are wrapped to 80 columns)."""
    return " ".join(output.split())


def test_the_mAP_reports_carry_decides(server: str) -> None:
    result = _recommend(server, "--device", "Pixel", "--min-fps", "20", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["variant"] == "fast/tfjs/fp16" and row["map"] == pytest.approx(0.62)
    result = _recommend(server, "--device", "Pixel", "--min-fps", "5", "--json")
    assert json.loads(result.output)[0]["variant"] == "accurate/tfjs/fp16"


def test_no_reports_for_the_device_names_the_devices_that_have_some(server: str) -> None:
    result = _recommend(server, "--device", "Galaxy", "--min-fps", "10")
    assert result.exit_code == 1
    text = _text(result.output)
    assert "no valid benchmark report from a device matching 'Galaxy'" in text
    assert "Pixel 7" in text and "iPhone 15" in text and "Run benchmark" in text


def test_no_accuracy_known_names_the_fastest_variant(server: str) -> None:
    result = _recommend(server, "--device", "iPhone", "--min-fps", "10", "--json")
    assert result.exit_code == 1
    answer = json.loads(result.output)
    assert answer["recommendation"] is None and answer["failed"] == "no_accuracy"
    assert answer["candidate"]["variant"] == "fast/tfjs/fp16"
    assert "none has a known mAP" in answer["message"] and "50.0 FPS" in answer["message"]


def test_nothing_fast_enough_names_the_fastest_known_candidate(server: str) -> None:
    result = _recommend(server, "--device", "Pixel", "--min-fps", "60")
    assert result.exit_code == 1
    text = _text(result.output)
    assert "no variant with a known mAP reaches 60 FPS" in text
    assert "fast/tfjs/uint8 on tfjs (mAP 0.610), runs at 26.3 FPS" in text  # export and engine
    assert "Best candidate" in text and "26.3" in text  # and its numbers, as a table
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_explain_mentions_fast_variants_without_accuracy() -> None:
    rows = [{"variant": "a", "map": None, "median_fps": 90.0, "count": 1, "devices": 1},
            {"variant": "b", "map": 0.4, "median_fps": 20.0, "count": 2, "devices": 1}]
    why = explain(rows, 60, "x")
    assert why.failed is Failure.TOO_SLOW and why.candidate["variant"] == "b"
    assert "a reach(es) it, but without a known mAP" in why.message
