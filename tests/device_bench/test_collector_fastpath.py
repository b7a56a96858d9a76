"""The submission fast path answers exactly what the Flask route answers: both call
:func:`device_bench.submit.submit` (the API tests cover the answers themselves)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.db import shutdown
from device_bench.fastpath import SubmitFastPath

URL = "/api/v1/reports"


@pytest.fixture
def flask_only(app_config: dict[str, Any], tmp_path: Any) -> Iterator[Flask]:
    """The same collector with the fast path off (its own database)."""
    config = {**app_config, "SUBMIT_FAST_PATH": False}
    config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'flask-only.sqlite'}"
    app = create_app(config)
    yield app
    shutdown(app)


def _answer(app: Flask, report: Any, **kwargs: Any) -> tuple[int, dict, dict[str, str]]:
    data = report if isinstance(report, str | bytes) else json.dumps(report)
    resp = app.test_client().post(URL, data=data, **kwargs)
    shown = ("Content-Type", "Location", "Retry-After", "WWW-Authenticate")
    return resp.status_code, resp.json, {k: v for k, v in resp.headers.items() if k in shown}


def test_the_standalone_app_uses_the_fast_path(app: Flask, flask_only: Flask) -> None:
    assert isinstance(app.wsgi_app, SubmitFastPath)
    assert not isinstance(flask_only.wsgi_app, SubmitFastPath)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"page": {"hidden_during_run": True}}, {"timing": {"fps": 10.0}}],
    ids=["valid", "hidden", "inconsistent"],
)
def test_same_answers_as_flask(app: Flask, flask_only: Flask, overrides: dict) -> None:
    report = example_report(overrides)
    json_type = {"content_type": "application/json"}
    fast, flask = _answer(app, report, **json_type), _answer(flask_only, report, **json_type)
    assert fast == flask and fast[0] == 201
    again = (_answer(app, report, **json_type), _answer(flask_only, report, **json_type))
    assert again[0] == again[1] and again[0][0] == 200  # the stored id: answered by Flask
    stored = app.test_client().get(fast[2]["Location"]).json
    assert stored == flask_only.test_client().get(flask[2]["Location"]).json | {
        "received_at": stored["received_at"]
    }


def test_location_keeps_the_script_root(app: Flask, flask_only: Flask) -> None:
    report = example_report()
    mounted = {"json": report, "base_url": "http://localhost/collector/"}
    fast = app.test_client().post(URL, **mounted)
    flask = flask_only.test_client().post(URL, **mounted)
    assert fast.status_code == flask.status_code == 201
    assert fast.headers["Location"] == flask.headers["Location"]
    assert fast.headers["Location"] == f"/collector{URL}/{report['report_id']}"


@pytest.mark.parametrize(
    ("body", "kwargs", "status"),
    [
        ("{", {"content_type": "application/json"}, 400),
        (example_report({"device": {"name": "a\u202eb"}}), {"content_type": "application/json"},
         400),
        (example_report(), {"content_type": "text/plain"}, 415),
        (example_report(notes="x" * 70_000), {"content_type": "application/json"}, 413),
    ],
    ids=["malformed", "hidden-character", "content-type", "too-large"],
)
def test_same_refusals_as_flask(
    app: Flask, flask_only: Flask, body: Any, kwargs: dict, status: int
) -> None:
    fast, flask = _answer(app, body, **kwargs), _answer(flask_only, body, **kwargs)
    assert fast == flask and fast[0] == status


@pytest.fixture
def limited_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_BURST=3)
    return app_config


def test_each_submission_takes_one_rate_token(limited_app_config: Any, post: Any) -> None:
    report = example_report()
    statuses = [post(report).status_code, post(report).status_code]  # 201 new, 200 stored
    statuses.append(post(example_report()).status_code)
    statuses.append(post(example_report()).status_code)  # the burst of 3 is used up
    assert statuses == [201, 200, 201, 429]


def test_it_stands_aside_for_request_hooks(app_config: dict[str, Any]) -> None:
    app = create_app(app_config)

    @app.after_request
    def tag(response: Any) -> Any:
        response.headers["X-Hooked"] = "yes"
        return response

    try:
        resp = app.test_client().post(URL, json=example_report())
        assert resp.status_code == 201 and resp.headers["X-Hooked"] == "yes"
    finally:
        shutdown(app)
