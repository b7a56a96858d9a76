"""The standalone collector (``gunicorn 'device_bench.app:create_app()'``) sends its security
headers on every answer: pages, JSON, CSV, errors and the submission fast path."""

from __future__ import annotations

import http.client
import json
import re
from typing import Any

import pytest
from flask import Flask

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import HOST, GunicornServer
from device_bench.fastpath import SubmitFastPath


def _check(headers: Any, what: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, (what, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") == "same-origin", what


@pytest.mark.parametrize(
    "path",
    ["/bench/", "/bench/static/dashboard.js", "/api/v1/reports", "/api/v1/reports.csv",
     "/api/v1/leaderboard", "/api/v1/openapi.json", "/api/v1/ready", "/api/v1/live",
     "/api/v1/reports/nope", "/no-such-page", "/"],
)  # fmt: skip
def test_every_read_answer_has_the_headers(client: Any, path: str) -> None:
    resp = client.get(path)  # before: none of them
    _check(resp.headers, path)
    resp.close()


def test_submissions_through_the_fast_path_have_them(app: Flask, client: Any) -> None:
    assert isinstance(app.wsgi_app, SubmitFastPath)
    created = client.post("/api/v1/reports", json=example_report())
    refused = client.post("/api/v1/reports", data="{", content_type="application/json")
    assert (created.status_code, refused.status_code) == (201, 400)
    _check(created.headers, "201")
    _check(refused.headers, "400")
    assert list(created.headers).count(("X-Frame-Options", "DENY")) == 1  # added once


def test_the_dashboard_needs_nothing_the_policy_forbids(post: Any, client: Any) -> None:
    """The page runs under ``script-src 'self'; style-src 'self'``: no inline script (the
    JSON data block is not run), no inline style, no handler attributes."""
    post(example_report())
    html = client.get("/bench/").text
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)


def test_gunicorn_serves_the_headers(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    env = {"DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0"}
    answers = {}
    with GunicornServer(url, workers=1, env=env) as server:
        conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
        for method, path, body in [
            ("GET", "/bench/", None),
            ("POST", "/api/v1/reports", json.dumps(example_report()).encode()),
        ]:
            conn.request(method, path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            answers[method] = (resp.status, resp.headers)
        conn.close()
    assert answers["GET"][0] == 200 and answers["POST"][0] == 201
    for method, (_, headers) in answers.items():
        _check(headers, method)
