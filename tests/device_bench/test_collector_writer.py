"""The group-commit writer, on SQLite and PostgreSQL: batches mixing new, stored and repeated
ids, a bad row among good ones, and the statement it sends."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from device_bench import migrations
from device_bench.db import make_engine
from device_bench.tables import reports
from device_bench.writer import COLUMNS, BatchWriter, insert_sql


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = make_engine(any_database_url)
    migrations.migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[BatchWriter]:
    # These tests hold the lock to make rows queue into one batch: no stall cut-off.
    writer = BatchWriter(engine, stall_s=60.0)
    yield writer
    writer.close()


def _row(report_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    row = {
        "report_id": report_id or str(uuid.uuid4()),
        "received_at": time.time(),
        "protocol_version": 1,
        "device_name": "Pixel 7",
        "runtime_name": "tfjs",
        "backend": "webgl",
        "model_name": "fast",
        "model_format": "tfjs",
        "quantization": "fp16",
        "fps": 50.0,
        "p50_ms": 20.0,
        "p90_ms": 23.5,
        "valid": True,
        "reasons": "[]",
        "payload": "{}",
        "map": None,
    }
    return {**row, **overrides}


@contextmanager
def _database_locked(engine: Engine) -> Iterator[None]:
    """Hold the table's write lock, so the writer's next statement waits and rows queue up
    behind it: they then reach the database as one multi-row batch."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE reports IN EXCLUSIVE MODE"))
        yield


def _insert_concurrently(writer: BatchWriter, engine: Engine, rows: list[dict]) -> list[Any]:
    """Insert ``rows`` from one thread each while the table is locked; results in order."""
    results: list[Any] = [None] * len(rows)

    def insert(i: int) -> None:
        try:
            results[i] = writer.insert(rows[i], timeout_s=20)
        except Exception as exc:  # returned for the test to inspect
            results[i] = exc

    threads = [threading.Thread(target=insert, args=(i,)) for i in range(len(rows))]
    with _database_locked(engine):
        for t in threads:
            t.start()
        time.sleep(0.5)  # every row is queued or waiting on the lock
    for t in threads:
        t.join(timeout=30)
    return results


def _stored(engine: Engine, report_id: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(reports.c.report_id == report_id)) or 0


def test_a_single_row_is_created_then_recognised(writer: BatchWriter, engine: Engine) -> None:
    row = _row()
    assert writer.insert(row) is True
    assert writer.insert({**row, "device_name": "other"}) is False
    assert _stored(engine, row["report_id"]) == 1


def test_batch_with_stored_and_repeated_ids(writer: BatchWriter, engine: Engine) -> None:
    stored, repeated, new = _row(), _row(), _row()
    assert writer.insert(stored) is True
    rows = [stored, repeated, new, dict(repeated), _row(), _row()]
    results = _insert_concurrently(writer, engine, rows)
    assert results[0] is False  # already stored before the batch
    assert sorted([results[1], results[3]]) == [False, True]  # exactly one of the two
    assert results[2] is True and results[4] is True and results[5] is True
    for row in rows:
        assert _stored(engine, row["report_id"]) == 1


def test_a_bad_row_does_not_fail_its_batch(writer: BatchWriter, engine: Engine) -> None:
    good = [_row() for _ in range(4)]
    bad = _row(device_name=None)  # NOT NULL
    results = _insert_concurrently(writer, engine, [good[0], good[1], bad, good[2], good[3]])
    assert isinstance(results[2], Exception)
    assert [results[i] for i in (0, 1, 3, 4)] == [True] * 4
    assert all(_stored(engine, row["report_id"]) == 1 for row in good)
    assert writer.insert(_row()) is True  # the writer recovered its connection


def test_insert_needs_every_column(writer: BatchWriter) -> None:
    row = _row()
    del row["payload"]
    with pytest.raises(KeyError):
        writer.insert(row)


def test_insert_statement_shape() -> None:
    sql = insert_sql("qmark", 2)
    assert sql.count("?") == 2 * len(COLUMNS) and "RETURNING" not in sql
    assert sql.endswith("ON CONFLICT (report_id) DO NOTHING")
    pg = insert_sql("pyformat", 3, returning=True)
    assert pg.count("%s") == 3 * len(COLUMNS) and pg.endswith("RETURNING report_id")
