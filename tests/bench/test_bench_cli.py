"""``sdk bench``: the protocol on a real TFLite export, printed and submitted to a collector."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from sdk.bench.protocol import LoopBounds
from sdk.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exports(tiny_fast, tmp_path_factory):
    from exporters.export import export

    root = tmp_path_factory.mktemp("exports")
    export(tiny_fast, "tflite", "fp32", out_root=root, allow_degraded=True)
    return root


@pytest.fixture(autouse=True)
def short_loops(monkeypatch):
    # the protocol's real bounds (>= 50 runs, >= 2 s) are tested in tests/device_bench; keep
    # these runs short but still bounded by both count and time
    import sdk.bench.runner as runner

    monkeypatch.setattr(runner, "WARMUP", LoopBounds(1, 0.0, 2, 1.0))
    monkeypatch.setattr(runner, "MEASURE", LoopBounds(5, 0.05, 10, 2.0))


def _folder(exports):
    (folder,) = [p for p in exports.iterdir() if p.is_dir()]
    return folder


def test_bench_prints_a_schema_valid_report(exports):
    from device_bench.schema import Report

    result = CliRunner().invoke(main, ["bench", "--model", str(_folder(exports)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    Report.model_validate(report)  # what the collector accepts
    lat = report["timing"]["latency_ms"]
    assert lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert report["timing"]["fps"] == pytest.approx(1000 / lat["p50"])
    assert report["runtime"]["name"] == "litert" and report["runtime"]["backend"] == "xnnpack"
    # compared with the exporter's fp32 source detections (reference.json), not with itself
    assert report["accuracy"]["passed"] and "notes" not in report
    assert 5 <= report["timing"]["runs"] <= 10


def test_bench_submits_to_the_collector(exports, tmp_path):
    from device_bench import create_app
    from device_bench.db import shutdown

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}",
                      "RATE_LIMIT_PER_MINUTE": 0, "KNOWN_MODEL_HASHES": None})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = CliRunner().invoke(main, ["bench", "--model", str(_folder(exports)),
                                           "--submit", f"http://127.0.0.1:{httpd.server_port}"])
        assert result.exit_code == 0, result.output
        assert "submitted" in result.output
        listed = app.test_client().get("/api/v1/reports").get_json()
        assert len(listed["items"]) == 1
    finally:
        httpd.shutdown()
        shutdown(app)


def test_bench_submits_over_https_trusting_the_given_certificate(exports, tmp_path):
    """A collector behind sdk serve's self-signed certificate: refused without --cacert
    (the certificate is not trusted), accepted with it."""
    from device_bench import create_app
    from device_bench.db import shutdown
    from web_demo.certs import ensure_self_signed

    cert, key = ensure_self_signed(tmp_path / "certs", ["127.0.0.1"])
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.sqlite'}",
                      "RATE_LIMIT_PER_MINUTE": 0, "KNOWN_MODEL_HASHES": None})
    httpd = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(str(cert), str(key)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_port}"
    try:
        args = ["bench", "--model", str(_folder(exports)), "--submit", url]
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.output
        result = CliRunner().invoke(main, [*args, "--cacert", str(cert)])
        assert result.exit_code == 0, result.output
        assert "submitted" in result.output and "valid" in result.output
        assert len(app.test_client().get("/api/v1/reports").get_json()["items"]) == 1
    finally:
        httpd.shutdown()
        shutdown(app)


def test_missing_export_says_how_to_make_it(tmp_path):
    result = CliRunner().invoke(main, ["bench", "--model", "fast", "--quantize", "int8",
                                       "--exports", str(tmp_path)])
    assert result.exit_code == 1
    assert "sdk export --format tflite --model fast --quantize int8" in result.output
