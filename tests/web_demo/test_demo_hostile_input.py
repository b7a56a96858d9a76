"""Hostile input to the demo server: a NUL in a file URL is a 404 (not a 500), and the
mounted collector refuses a submission with both Content-Length and Transfer-Encoding."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from werkzeug.serving import make_server

from benchmarks.example_reports import example_report
from device_bench.db import shutdown
from tests.device_bench.test_collector_request_framing import send_raw, smuggling_request
from web_demo import create_app


@pytest.mark.parametrize(
    "path",
    ["/static/%00", "/static/a%00b.js", "/static/sdk/%00", "/static/vendor/tfjs/%00",
     "/static/%00/../index.html"],
)  # fmt: skip
def test_a_nul_in_a_file_url_is_404(client: Any, path: str) -> None:
    resp = client.get(path)  # before: 500 (os.path.realpath: embedded null byte)
    assert resp.status_code == 404, resp.data[:200]


def test_the_mounted_collector_refuses_length_with_chunked(client: Any) -> None:
    resp = client.post("/api/v1/reports", json=example_report(),
                       headers={"Transfer-Encoding": "chunked"})  # fmt: skip
    assert resp.status_code == 400 and resp.json["error"] == "ambiguous_length"


def test_werkzeug_serving_the_demo_refuses_it(app_config: dict[str, Any]) -> None:
    """Over a real socket (werkzeug's server; ``sdk serve`` is moving to gunicorn)."""
    app = create_app(app_config)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    report = example_report()
    try:
        status, body, _ = send_raw(httpd.server_port, smuggling_request(report))
        stored = app.test_client().get(f"/api/v1/reports/{report['report_id']}").status_code
    finally:
        httpd.shutdown()
        shutdown(app)
    assert (status, body.get("error")) == (400, "ambiguous_length")  # before: 201
    assert stored == 404
