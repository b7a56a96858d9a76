"""Storage that fails (read-only, full, unreachable) is answered 503 + ``Retry-After``, never
500, and the readiness check (``/api/v1/ready``) reports it, while liveness stays green.

Real faults of the real databases, no mock of the store: SQLite ``PRAGMA query_only`` and
``max_page_count`` (its own read-only and disk-full errors), a PostgreSQL session in
read-only mode, and a database server that is not there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import free_port
from device_bench import create_app
from device_bench.db import get_engine, shutdown

URL = "/api/v1/reports"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def _on_connect(app: Flask, setup: Callable[[Any], None]) -> None:
    """Run ``setup(dbapi_connection)`` on every connection the app opens from now on."""
    engine = get_engine(app)

    @event.listens_for(engine, "connect")
    def connect(dbapi_conn: Any, _record: Any) -> None:
        setup(dbapi_conn)

    engine.dispose()  # connections opened before (the migration's) are plain


def _read_only_switch(app: Flask) -> dict[str, bool]:
    """While ``switch["on"]``, new connections cannot write (as on a read-only disk)."""
    switch = {"on": True}

    def setup(dbapi_conn: Any) -> None:
        if not switch["on"]:
            return
        if app.config["DATABASE_URL"].startswith("sqlite"):
            dbapi_conn.execute("PRAGMA query_only = ON")
        else:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET SESSION default_transaction_read_only = on")
            dbapi_conn.commit()

    _on_connect(app, setup)
    return switch


def _unavailable(resp: Any, code: str = "storage_unavailable") -> None:
    assert resp.status_code == 503, (resp.status_code, resp.data[:300])
    assert resp.json["error"] == code
    assert int(resp.headers["Retry-After"]) >= 1


def test_a_read_only_database_is_not_ready(app: Flask, client: Any, post: Any) -> None:
    stored = example_report()
    assert post(stored).status_code == 201
    assert client.get("/api/v1/ready").status_code == 200
    app.extensions.pop("device_bench.writer")[1].close()  # a server started on this disk
    switch = _read_only_switch(app)
    _unavailable(post(example_report()))
    _unavailable(client.get("/api/v1/ready"), "not_ready")  # before: no readiness check (404)
    assert client.get("/api/v1/live").json == {"status": "alive"}
    assert client.get(f"{URL}/{stored['report_id']}").status_code == 200  # reads still work
    switch["on"] = False  # the disk is writable again: the next write reconnects
    assert client.get("/api/v1/ready").status_code == 200
    assert post(example_report()).status_code == 201


@pytest.fixture
def sqlite_app(app_config: dict[str, Any], sqlite_url: str) -> Iterator[Flask]:
    app = create_app({**app_config, "DATABASE_URL": sqlite_url})
    yield app
    shutdown(app)


def test_a_full_sqlite_database_is_answered_503(sqlite_app: Flask) -> None:
    """SQLite's ``max_page_count`` stands in for a full disk (SQLITE_FULL)."""
    app, client = sqlite_app, sqlite_app.test_client()

    def post(report: dict) -> Any:
        return client.post(URL, json=report)

    limit: dict[str, int | None] = {}
    with get_engine(app).connect() as conn:
        limit["pages"] = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def setup(dbapi_conn: Any) -> None:
        if limit["pages"] is not None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {limit['pages']}")

    _on_connect(app, setup)
    acked, refused = [], None
    for _ in range(50):  # the pages that are left fill up after a few reports
        report = example_report(notes="x" * 2000)
        resp = post(report)
        if resp.status_code != 201:
            refused = (report, resp)
            break
        acked.append(report["report_id"])
    assert refused is not None
    _unavailable(refused[1])
    limit["pages"] = None  # space freed
    assert post(refused[0]).status_code == 201  # stored now, never acknowledged before
    assert all(client.get(f"{URL}/{i}").status_code == 200 for i in acked)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_unreachable_database_is_503_not_500(kind: str, tmp_path: Any) -> None:
    if kind == "sqlite":  # a directory that does not exist: SQLite cannot open the file
        url = f"sqlite:///{tmp_path / 'missing' / 'bench.sqlite'}"
    else:  # nothing listens on this port
        url = f"postgresql+psycopg://u:p@127.0.0.1:{free_port()}/db?connect_timeout=2"
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "AUTO_MIGRATE": False,
        "RATE_LIMIT_PER_MINUTE": 0, "READ_RATE_LIMIT_PER_MINUTE": 0,
    })  # fmt: skip
    client = app.test_client()
    try:
        for path in (URL, f"{URL}.csv", "/api/v1/leaderboard", "/api/v1/variants", "/bench/",
                     f"{URL}/00000000-0000-4000-8000-000000000000"):  # fmt: skip
            _unavailable(client.get(path))  # before: 500
        _unavailable(client.post(URL, json=example_report()))
        _unavailable(client.get("/api/v1/ready"), "not_ready")
        assert client.get("/api/v1/live").status_code == 200
    finally:
        shutdown(app)
