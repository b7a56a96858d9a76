"""A submission with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is refused
(400, connection closed): servers and proxies may disagree on where such a body ends
(request smuggling). Over real sockets, on werkzeug's server (what ``sdk serve`` runs)
through the fast path and through the Flask route, and on gunicorn (thread and asyncio
workers)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import HOST, CollectorClient, GunicornServer
from device_bench import create_app
from device_bench.db import shutdown

URL = "/api/v1/reports"


def smuggling_request(report: dict[str, Any]) -> bytes:
    """A POST whose body is sent chunked and also announced by a (matching) Content-Length."""
    body = json.dumps(report).encode()
    return (
        (
            f"POST {URL} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked\r\n\r\n"
            f"{len(body):x}\r\n"
        ).encode()
        + body
        + b"\r\n0\r\n\r\n"
    )


def send_raw(port: int, request: bytes) -> tuple[int, dict[str, Any], str | None]:
    """Send ``request`` on a new connection; return status, JSON body, Connection header."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(request)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        data = resp.read()
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        body = {"raw": data[:200].decode("latin-1")}
    return resp.status, body, resp.getheader("Connection")


@contextmanager
def werkzeug_collector(config: dict[str, Any]) -> Iterator[int]:
    app = create_app(config)
    httpd = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        shutdown(app)


def _stored(port: int, report_id: str) -> int:
    client = CollectorClient(port)
    status = client.request("GET", f"{URL}/{report_id}")[0]
    client.close()
    return status


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "flask-route"])
def test_werkzeug_refuses_length_with_chunked(app_config: dict, fast_path: bool) -> None:
    report = example_report()
    with werkzeug_collector({**app_config, "SUBMIT_FAST_PATH": fast_path}) as port:
        status, body, connection = send_raw(port, smuggling_request(report))
        stored = _stored(port, report["report_id"])
    assert (status, body.get("error")) == (400, "ambiguous_length"), body  # before: 201
    assert "close" in (connection or "")  # the next request on it cannot be trusted
    assert stored == 404


@pytest.mark.parametrize("asgi", [False, True], ids=["gthread", "asgi"])
def test_gunicorn_refuses_length_with_chunked(tmp_path: Any, asgi: bool) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    report = example_report()
    env = {"DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0"}
    with GunicornServer(url, workers=1, threads=2, asgi=asgi, env=env) as server:
        status, _, _ = send_raw(server.port, smuggling_request(report))
        stored = _stored(server.port, report["report_id"])
    assert status == 400 and stored == 404  # gunicorn's parser or the collector refuses it


def test_the_test_client_path_refuses_it_too(client: Any) -> None:
    report = example_report()
    resp = client.post(URL, json=report, headers={"Transfer-Encoding": "chunked"})
    assert resp.status_code == 400 and resp.json["error"] == "ambiguous_length"
