"""Schema-driven fuzzing of ``POST /api/v1/reports``: malformed input never yields a 500.

Mutations walk the example report's own structure (every field of schema v1): replace a
value with arbitrary JSON, drop a required key, add an unknown one; plus arbitrary bodies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.db import shutdown
from device_bench.schema import Report

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # keep the repo free of .hypothesis/
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=50)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


PATHS = sorted(_paths(example_report()), key=str)


@st.composite
def mutated_reports(draw: st.DrawFn) -> dict:
    report = example_report()
    path = draw(st.sampled_from(PATHS))
    parent = report
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "delete", "extra"]))
    if action == "replace":
        parent[path[-1]] = draw(json_values)
    elif action == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return report


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    db = tmp_path_factory.mktemp("fuzz") / "bench.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{db}",
            "RATE_LIMIT_PER_MINUTE": 0,
            "READ_RATE_LIMIT_PER_MINUTE": 0,
        }
    )
    yield app
    shutdown(app)


def _check(app: Flask, body: bytes) -> None:
    resp = app.test_client().post("/api/v1/reports", data=body, content_type="application/json")
    assert resp.status_code in (200, 201, 400, 413), (resp.status_code, resp.data[:300])
    if resp.status_code == 400:
        assert resp.json["error"] == "invalid_report" and resp.json["details"]
        assert all(isinstance(d["loc"], str) and d["msg"] for d in resp.json["details"])
    if resp.status_code in (200, 201):
        stored = app.test_client().get(resp.headers["Location"]).json["report"]
        Report.model_validate_json(json.dumps(stored))  # what was stored is well formed


@FUZZ
@given(report=mutated_reports())
def test_mutated_reports_never_500(fuzz_app: Flask, report: dict) -> None:
    _check(fuzz_app, json.dumps(report).encode())


@FUZZ
@given(value=json_values)
def test_arbitrary_json_never_500(fuzz_app: Flask, value: Any) -> None:
    _check(fuzz_app, json.dumps(value).encode())


@FUZZ
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_never_500(fuzz_app: Flask, body: bytes) -> None:
    _check(fuzz_app, body)
