"""Fixtures for the collector tests (flaskr style: app, client, runner).

``database_url`` is SQLite in a temp dir. Storage tests override it with
``any_database_url``, which adds PostgreSQL when ``TEST_DATABASE_URL`` is set
(``eval "$(.ci/postgres.sh)"`` starts one); each test gets its own PostgreSQL schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.db import shutdown

PG_SKIP_REASON = 'TEST_DATABASE_URL is not set (run: eval "$(.ci/postgres.sh)")'

MODEL_METRICS = {
    "fast/tfjs/fp16": {"map": 0.30},
    "fast/tflite/int8": {"map": 0.28},
    "accurate": {"map": 0.41},
}


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    """Create a private schema, yield a URL whose search_path points at it, drop it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'bench.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip(PG_SKIP_REASON)
    yield from _postgres_schema_url(base)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    """Test configuration; tests tweak it before ``app`` is created."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "RATE_LIMIT_PER_MINUTE": 0,
        "READ_RATE_LIMIT_PER_MINUTE": 0,
        "KNOWN_MODEL_HASHES": None,
        "MIN_REPORTS": 3,
        "MODEL_METRICS": MODEL_METRICS,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def post(client: FlaskClient) -> Callable[..., Any]:
    """POST a report (dict) as JSON; returns the response."""

    def _post(report: dict[str, Any], **kwargs: Any) -> Any:
        return client.post("/api/v1/reports", json=report, **kwargs)

    return _post


@pytest.fixture
def report() -> dict[str, Any]:
    return example_report()
