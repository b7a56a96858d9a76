"""Slow and lying clients: a body must arrive whole (its Content-Length) and in time
(``BODY_TIMEOUT_S``, else 408), and under the recommended deployment for many devices
(gunicorn's ASGI worker with :mod:`device_bench.asgi`) clients that stall mid-body do not
delay anyone else's submission. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import HOST, CollectorClient, GunicornServer
from device_bench import create_app
from device_bench.db import shutdown

URL = "/api/v1/reports"
BODY_TIMEOUT_S = 1.0
ENV = {"DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0"}


def _request_head(length: int) -> bytes:
    return (
        f"POST {URL} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def _open(port: int, head: bytes, body_part: bytes, timeout_s: float = 15.0) -> socket.socket:
    """Connect, send the request head and the first part of a body, and keep the socket."""
    sock = socket.create_connection((HOST, port), timeout=timeout_s)
    sock.sendall(head + body_part)
    return sock


def _answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read the response (bounded by the socket timeout): status and JSON body; status 0
    when the server closed the connection without answering."""
    resp = http.client.HTTPResponse(sock)
    try:
        resp.begin()
    except http.client.RemoteDisconnected:
        return 0, {}
    body = resp.read()
    return resp.status, json.loads(body or b"{}")


def _answered(sock: socket.socket) -> bool:
    """Whether the server has started answering (or closed) without waiting."""
    return bool(select.select([sock], [], [], 0)[0])


def _body() -> bytes:
    return json.dumps(example_report()).encode()


@contextmanager
def _werkzeug(config: dict[str, Any]) -> Iterator[int]:
    """The collector app under werkzeug's threaded server on loopback; yields its port."""
    app = create_app(config)
    httpd = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        shutdown(app)


@contextmanager
def _gunicorn(tmp_path: Path, asgi: bool, body_timeout_s: float, **kw: Any) -> Iterator[int]:
    env = {**ENV, "DEVICE_BENCH_BODY_TIMEOUT_S": str(body_timeout_s)}
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    log = str(tmp_path / "gunicorn.log")
    with GunicornServer(url, env=env, asgi=asgi, log_path=log, **kw) as server:
        yield server.port


SERVERS = ["werkzeug-fastpath", "werkzeug-flask-route", "gunicorn-gthread", "gunicorn-asgi"]


@pytest.fixture(params=SERVERS)
def serve(request: pytest.FixtureRequest, app_config: dict, tmp_path: Path) -> Callable:
    """A context manager starting the collector (body timeout 1 s) one way or another."""
    kind = request.param

    def start() -> Any:
        if kind.startswith("werkzeug"):
            config = {**app_config, "BODY_TIMEOUT_S": BODY_TIMEOUT_S,
                      "SUBMIT_FAST_PATH": kind == "werkzeug-fastpath"}  # fmt: skip
            return _werkzeug(config)
        return _gunicorn(tmp_path, kind == "gunicorn-asgi", BODY_TIMEOUT_S, workers=1, threads=4)

    return start


def test_a_body_shorter_than_its_content_length_is_refused(serve: Callable) -> None:
    body = _body()
    with serve() as port:
        sock = _open(port, _request_head(len(body) + 100), body)  # a valid report, 100 short
        sock.shutdown(socket.SHUT_WR)  # ... and nothing more will come
        status, answer = _answer(sock)
        sock.close()
        client = CollectorClient(port)
        listed = json.loads(client.request("GET", URL)[1])["items"]
        client.close()
    # Before: the fast path stored the report it had read (201). The ASGI worker itself
    # drops a request whose body never completes: no answer is an answer too.
    assert (status, answer.get("error")) in ((400, "incomplete_body"), (0, None))
    assert listed == []


def test_a_stalled_body_is_answered_408(serve: Callable) -> None:
    body = _body()
    with serve() as port:
        sock = _open(port, _request_head(len(body)), body[: len(body) // 2])
        started = time.monotonic()
        status, answer = _answer(sock)  # before: no answer until the client gave up
        waited = time.monotonic() - started
        sock.close()
    assert (status, answer["error"]) == (408, "request_timeout")
    assert waited < 10 * BODY_TIMEOUT_S


def test_a_trickled_body_is_cut_at_the_deadline(serve: Callable) -> None:
    """One byte every 0.2 s: no single read waits long, the total still is bounded."""
    body = _body()
    with serve() as port:
        sock = _open(port, _request_head(len(body)), body[:100])
        for drips in range(50):  # 10 s at most, the body would need minutes
            if _answered(sock):
                break
            sock.sendall(body[100 + drips : 101 + drips])
            time.sleep(0.2)
        status, answer = _answer(sock)
        sock.close()
    assert drips < 50 and (status, answer["error"]) == (408, "request_timeout")


SLOW_CLIENTS = 20


def _hold_slow_clients(stack: ExitStack, port: int) -> list[socket.socket]:
    """Open SLOW_CLIENTS connections that send their headers and half a body, then stall."""
    body = _body()
    socks = [
        stack.enter_context(_open(port, _request_head(len(body)), body[: len(body) // 2]))
        for _ in range(SLOW_CLIENTS)
    ]
    time.sleep(0.5)  # let the server take them all in
    return socks


def _timed_submission(port: int, timeout_s: float) -> tuple[int | None, float]:
    client = CollectorClient(port, timeout_s=timeout_s)
    started = time.monotonic()
    try:
        status = client.post_report(example_report())[0]
    except TimeoutError:
        status = None
    client.close()
    return status, time.monotonic() - started


def test_slow_clients_do_not_delay_submissions_under_the_asgi_worker(tmp_path: Path) -> None:
    """The recommended deployment: 20 stalled bodies, a normal report still answered at once."""
    with _gunicorn(tmp_path, asgi=True, body_timeout_s=60, workers=1) as port, ExitStack() as st:
        assert _timed_submission(port, 10)[0] == 201  # warm: first request opens the database
        slow = _hold_slow_clients(st, port)
        status, elapsed = _timed_submission(port, 10)
        still_held = [not _answered(sock) for sock in slow]
    assert status == 201 and elapsed < 1.0, (status, elapsed)
    assert all(still_held)  # the slow clients were all still waiting on their bodies


def test_slow_clients_hold_every_thread_of_the_thread_worker(tmp_path: Path) -> None:
    """Why the ASGI worker is recommended: gthread gives each stalled body a thread."""
    with _gunicorn(tmp_path, asgi=False, body_timeout_s=60, workers=1, threads=4) as port:
        with ExitStack() as stack:
            assert _timed_submission(port, 10)[0] == 201
            _hold_slow_clients(stack, port)
            status, _ = _timed_submission(port, 2)
    assert status is None  # queued behind the stalled bodies: no answer within 2 s
