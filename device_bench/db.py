"""Database access for the collector: one engine per process, one connection per request.

SQLite (the default, in the instance folder) runs in WAL mode with ``synchronous=FULL``:
a commit is on disk before the 201 goes out, and readers never block the writer.
PostgreSQL is used when ``DATABASE_URL`` says so (several workers or hosts share it).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, create_engine, event

from device_bench import migrations
from device_bench.writer import BatchWriter

_ENGINE_KEY = "device_bench.engine"
_WRITER_KEY = "device_bench.writer"
_writer_lock = threading.Lock()
SQLITE_BUSY_TIMEOUT_MS = 10_000  # writers queue on SQLite's lock instead of failing


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook emit BEGIN itself, so transactions include DDL and the
    # migration can ask for BEGIN IMMEDIATE (pysqlite would otherwise begin lazily).
    dbapi_conn.isolation_level = None
    dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(dbapi_conn)
    for pragma in (
        "synchronous=FULL",  # fsync the WAL on every commit: acknowledged = durable
        "foreign_keys=ON",
    ):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _enable_wal(dbapi_conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (a property of the file: a no-op once it is).

    Switching needs the file to itself, and SQLite answers "database is locked" at once,
    without the busy wait, when another connection is inside a transaction: processes
    starting together on a new database (one migrating, one connecting) hit it. Retry until
    the busy timeout instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        else:  # a mode it could not change is answered with the old mode, not an error
            if mode.lower() in ("wal", "memory"):  # memory: an in-memory database
                return
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError(f"cannot enable WAL (journal mode {mode})")
        time.sleep(0.01)


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the collector's durability settings."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def get_engine(app: Flask | None = None) -> Engine:
    """Return this process's engine for ``app`` (a forked worker gets its own)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    pid, engine = app.extensions.get(_ENGINE_KEY, (None, None))
    if engine is None or pid != os.getpid():
        if engine is not None:
            engine.dispose(close=False)  # the parent's connections belong to the parent
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions[_ENGINE_KEY] = (os.getpid(), engine)
    return engine


def get_writer(app: Flask | None = None) -> BatchWriter:
    """Return this process's group-commit writer (threads do not survive a fork)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    pid, writer = app.extensions.get(_WRITER_KEY, (None, None))
    if writer is not None and pid == os.getpid():  # every request but the first
        return writer
    with _writer_lock:
        pid, writer = app.extensions.get(_WRITER_KEY, (None, None))
        if writer is None or pid != os.getpid():
            writer = BatchWriter(get_engine(app), stall_s=float(app.config["WRITE_STALL_S"]))
            app.extensions[_WRITER_KEY] = (os.getpid(), writer)
    return writer


def shutdown(app: Flask) -> None:
    """Stop this process's writer and close its connections (tests, embedding apps)."""
    with _writer_lock:
        pid, writer = app.extensions.pop(_WRITER_KEY, (None, None))
    if writer is not None and pid == os.getpid():
        writer.close()
    pid, engine = app.extensions.pop(_ENGINE_KEY, (None, None))
    if engine is not None:
        engine.dispose(close=pid == os.getpid())


def get_db() -> Connection:
    """Return the request's connection, opened on first use and closed at teardown."""
    if "device_bench_db" not in g:
        g.device_bench_db = get_engine().connect()
    return g.device_bench_db


def close_db(_exc: BaseException | None = None) -> None:
    """Return the request's connection to the pool (rolling back anything uncommitted)."""
    conn = g.pop("device_bench_db", None)
    if conn is not None:
        conn.close()


@click.command("bench-migrate")
@with_appcontext
def migrate_command() -> None:
    """Apply pending device_bench schema migrations."""
    applied = migrations.migrate(get_engine())
    click.echo(f"applied migrations: {applied or 'none'}")


def init_app(app: Flask) -> None:
    """Register teardown and the CLI command; migrate now if AUTO_MIGRATE is set."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(migrate_command)
    if app.config["AUTO_MIGRATE"]:
        migrations.migrate(get_engine(app))
