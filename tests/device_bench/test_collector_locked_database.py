"""A locked database does not take the server down: while another process holds the write
lock, waiting submissions give up after ``WRITE_STALL_S`` (503 + ``Retry-After``, nothing
acknowledged) instead of pinning every thread, and reads keep answering. Real gunicorn
(thread worker, 4 threads), SQLite and PostgreSQL; loopback only, every wait bounded.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import HOST, CollectorClient, GunicornServer

ENV = {"DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0", "DEVICE_BENCH_READ_RATE_LIMIT_PER_MINUTE": "0"}
THREADS = 4
SUBMISSIONS = 12  # three times the threads


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@contextmanager
def _write_lock(url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection, as another process would."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database, isolation_level=None, timeout=10)
        conn.execute("BEGIN EXCLUSIVE")  # WAL: readers still read, every writer waits
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            # EXCLUSIVE blocks INSERT (ROW EXCLUSIVE), not SELECT (ACCESS SHARE).
            conn.execute(text("LOCK TABLE reports IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def _submit(port: int, report: dict, answers: list[Any]) -> None:
    """POST ``report``; append (status, JSON body, Retry-After) to ``answers``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=20)
    try:
        body = json.dumps(report).encode()
        conn.request("POST", "/api/v1/reports", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        answers.append(
            (resp.status, json.loads(resp.read() or b"{}"), resp.getheader("Retry-After"))
        )
    except OSError as exc:  # reported by the assertions
        answers.append((None, {"error": repr(exc)}, None))
    finally:
        conn.close()


def _retry_until_stored(port: int, reports: list[dict], timeout_s: float = 15.0) -> list[int]:
    """Resubmit each report until it is acknowledged (as the browser outbox does) or the
    time is up; return the last status of each."""
    client = CollectorClient(port)
    deadline = time.monotonic() + timeout_s
    statuses = []
    for report in reports:
        status = client.post_report(report)[0]
        while status == 503 and time.monotonic() < deadline:
            time.sleep(0.1)  # the writer's wait on the freed lock ends within ~0.1 s
            status = client.post_report(report)[0]
        statuses.append(status)
    client.close()
    return statuses


def _timed_get(port: int, path: str) -> tuple[int | None, float]:
    client = CollectorClient(port, timeout_s=15)
    started = time.monotonic()
    try:
        status = client.request("GET", path)[0]
    except OSError:
        status = None
    client.close()
    return status, time.monotonic() - started


def test_reads_answer_while_the_database_is_locked(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with GunicornServer(
        database_url, workers=1, threads=THREADS, env=ENV, log_path=str(log)
    ) as server:
        port = server.port
        warm = CollectorClient(port)
        assert warm.post_report(example_report())[0] == 201  # the writer is connected
        warm.close()
        reports = [example_report() for _ in range(SUBMISSIONS)]
        answers: list[Any] = []
        with _write_lock(database_url):
            senders = [threading.Thread(target=_submit, args=(port, r, answers)) for r in reports]
            for sender in senders:
                sender.start()
            time.sleep(0.3)  # every thread of the worker now runs a waiting submission
            read = _timed_get(port, "/api/v1/reports?limit=1")
            ready = _timed_get(port, "/api/v1/ready")
            for sender in senders:
                sender.join(timeout=30)
        # The lock is gone: the same reports go through (or were stored meanwhile).
        retried = _retry_until_stored(port, reports)
    tail = log.read_text()[-2000:]
    # Before: the 4 threads waited up to 30 s for their commits; the read queued behind them.
    assert read[0] == 200 and read[1] < 1.0, (read, tail)
    assert ready[0] == 503, (ready, tail)  # a locked database is not ready for writes
    assert len(answers) == SUBMISSIONS
    for status, body, retry_after in answers:  # refused, never acknowledged under the lock
        assert (status, body.get("error")) == (503, "storage_busy"), (status, body, tail)
        assert int(retry_after) >= 1
    assert all(status in (200, 201) for status in retried), retried
