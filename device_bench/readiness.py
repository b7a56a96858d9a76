"""Readiness: can this server store a report right now? Proven by a write, not assumed.

A collector on a read-only or full disk, or with a database it cannot reach, still answers
reads; only a write shows it is broken. :func:`probe` writes a fresh token to the
``readiness_probe`` table (one row per server process), commits, and reads it back in a
new transaction, bounded in time: a locked database fails the check instead of hanging it.
Liveness (the process answers at all) needs no database and is checked separately.
"""

from __future__ import annotations

import os
import secrets
import socket
import time

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from device_bench.tables import readiness_probe

STALE_S = 86_400.0  # rows of processes that stopped probing a day ago are removed


class NotReady(RuntimeError):
    """The probe write did not round-trip; the message says what failed."""


def _limit_waits(conn: Connection, timeout_s: float) -> None:
    """Bound the lock waits and statements of ``conn``'s current transaction."""
    ms = max(1, int(timeout_s * 1000))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
    else:  # SQLite: the connection's busy timeout, restored by the caller
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {ms}")


def _upsert(conn: Connection, name: str, token: str, now: float) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(readiness_probe).values(name=name, token=token, checked_at=now)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[readiness_probe.c.name],
            set_={"token": statement.excluded.token, "checked_at": statement.excluded.checked_at},
        )
    )
    conn.execute(delete(readiness_probe).where(readiness_probe.c.checked_at < now - STALE_S))


def _round_trip(engine: Engine, timeout_s: float, busy_timeout_ms: int | None) -> bool:
    """Write a fresh token, commit, read it back; True when it came back."""
    name = f"{socket.gethostname()}:{os.getpid()}"[:100]
    token = secrets.token_hex(16)
    with engine.connect() as conn:
        with conn.begin():
            _limit_waits(conn, timeout_s)
            _upsert(conn, name, token, time.time())
        with conn.begin():
            stored = conn.scalar(
                select(readiness_probe.c.token).where(readiness_probe.c.name == name)
            )
        if conn.dialect.name == "sqlite" and busy_timeout_ms is not None:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    return stored == token


def probe(engine: Engine, timeout_s: float, busy_timeout_ms: int | None = None) -> None:
    """Write a fresh token, commit, and read it back; raise NotReady if that fails.

    A failure is retried once on a fresh connection, after closing the pooled ones: a
    connection opened while the disk was read-only (or the server gone) stays broken
    after the storage has recovered.

    Args:
        engine: The collector's engine.
        timeout_s: Bound on the lock waits and on each statement.
        busy_timeout_ms: SQLite: the busy timeout to restore on the pooled connection.

    Raises:
        NotReady: The write or the read-back failed (the cause is chained).
    """
    for attempt in range(2):
        try:
            if _round_trip(engine, timeout_s, busy_timeout_ms):
                return
            failure: Exception = NotReady("a test write was committed but not read back")
        except Exception as exc:  # any failure to write is the answer, whatever raised it
            failure = exc
        if attempt == 0:
            engine.dispose()
    raise NotReady(f"a test write failed: {type(failure).__name__}: {failure}") from failure
