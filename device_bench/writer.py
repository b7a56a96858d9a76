"""Group commit: one writer thread per process commits the reports of many requests at once.

A durable commit costs an fsync (with SQLite ``synchronous=FULL``) or a WAL flush
(PostgreSQL), so committing each report alone wastes most of a process's CPU on commits.
Requests instead hand their row to the writer and wait; the writer inserts everything
that queued up during the previous commit with one multi-row ``INSERT ... ON CONFLICT
(report_id) DO NOTHING`` and wakes the requests when it has returned. Nothing is
acknowledged before its commit returns, and a batch is as large as the load makes it
(no timer): one report alone is committed at once.

Cheap per batch, because the writer shares its process with busy request threads:

* The statement runs on its own, in autocommit mode: one statement is one atomic,
  durable transaction, so a batch costs one call into the driver instead of three
  (BEGIN, INSERT, COMMIT). Every call releases the GIL and, with request threads
  running, waits to get it back; those waits, not the database, bounded the writer.
* The DB-API connection is used directly (a statement text per batch size, tuples in):
  SQLAlchemy's statement execution cost more CPU per batch than the database did.
* SQLite lets one process write at a time and makes the others poll for the lock,
  sleeping 1 ms, then 2, 5, 10... between tries: with two workers most commits slept.
  The writers of one database file therefore queue on an advisory ``flock`` beside
  it first, which wakes the next one as soon as the lock is free (SQLite's own locking
  still guards correctness; the file lock only orders our writers).
* Which ids were new: PostgreSQL returns them (``RETURNING``, one round trip). SQLite
  would step once per returned row (another GIL wait each), so there the row count
  answers the usual case, all new, and only a batch with a stored id reads back the
  rows it inserted (they have the consecutive ``seq`` values ending at ``lastrowid``).

A database that stops committing (another process holds SQLite's write lock, a table lock
in PostgreSQL, a stalled disk) must not take every server thread: a commit takes
milliseconds, so once the current one has run for ``stall_s`` the requests waiting for it
give up (:class:`WriteTimeout`, answered 503 + ``Retry-After``; the client retries with the
same id) and new rows are refused without being queued, until a commit returns. Threads
stay free for reads.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine

from device_bench.tables import reports

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own lock polling orders the writers
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAX_BATCH = 256  # bounds one transaction's size (and its latency)
STALL_S = 0.5  # a commit running longer than this means a locked or stalled database

# Columns a row tuple holds, in order (``seq`` is assigned by the database).
COLUMNS: tuple[str, ...] = tuple(c.name for c in reports.columns if c.name != "seq")
_ID = COLUMNS.index("report_id")
_as_row = itemgetter(*COLUMNS)  # mapping -> tuple in COLUMNS order (KeyError if one is missing)


class WriteTimeout(RuntimeError):
    """The database did not commit the report in time (locked, stalled or overloaded); it
    may or may not be stored."""


class StorageFailure(RuntimeError):
    """The commit failed for a reason other than the row itself (an I/O error on the fsync,
    a full disk, a lost connection): the report may or may not be on disk, and is not
    acknowledged."""


class _Pending:
    """One row waiting for its commit; ``done`` is released by the writer thread."""

    __slots__ = ("row", "done", "created", "error")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.row = row
        self.done = threading.Lock()  # the cheapest one-shot signal: held until committed
        self.done.acquire()
        self.created = False
        self.error: BaseException | None = None


def _writer_lock_path(engine: Engine) -> str | None:
    """``<database file>.writer-lock`` for a SQLite file database, else None."""
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + ".writer-lock"


def insert_sql(paramstyle: str, rows: int, returning: bool = False) -> str:
    """``INSERT INTO reports (...) VALUES (...), ... ON CONFLICT (report_id) DO NOTHING`` for
    ``rows`` rows with the driver's placeholders, plus ``RETURNING report_id`` if asked."""
    mark = "?" if paramstyle == "qmark" else "%s"
    one = "(" + ", ".join([mark] * len(COLUMNS)) + ")"
    return (
        f"INSERT INTO {reports.name} ({', '.join(COLUMNS)}) VALUES "
        + ", ".join([one] * rows)
        + " ON CONFLICT (report_id) DO NOTHING"
        + (" RETURNING report_id" if returning else "")
    )


class BatchWriter:
    """Insert report rows from many threads, committing them in shared transactions.

    Args:
        engine: Where to write: SQLite or PostgreSQL. The writer's connection comes from
            it, so it has the engine's connect-time settings (SQLite: WAL, ``synchronous``,
            autocommit mode, busy timeout; see :mod:`device_bench.db`).
        max_batch: Most rows per transaction.
        stall_s: How long a commit may run before the database counts as stalled.
    """

    def __init__(
        self, engine: Engine, max_batch: int = MAX_BATCH, stall_s: float = STALL_S
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.stall_s = stall_s
        self._busy_since: float | None = None  # monotonic start of the running statement
        self._sqlite = engine.dialect.name == "sqlite"
        self._lock_path = _writer_lock_path(engine) if self._sqlite else None
        self._lock_fd: int | None = None
        self._paramstyle = engine.dialect.paramstyle
        self._sql: dict[int, str] = {}  # batch size -> statement text
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()  # None: stop
        self._conn: Any = None  # DB-API connection, used by the writer thread only
        self._recovered = True  # False after a storage failure, until _recover succeeds
        self._thread = threading.Thread(target=self._run, name="device-bench-writer", daemon=True)
        self._thread.start()

    def insert(self, values: Mapping[str, Any], timeout_s: float = 30.0) -> bool:
        """Store one row (a value for each of :data:`COLUMNS`) durably.

        Returns:
            False if its ``report_id`` was already stored, True if this call stored it.

        Raises:
            WriteTimeout: The commit did not finish within ``timeout_s``, or the database is
                stalled (:meth:`stalled`): then the row is not even queued.
            StorageFailure: The commit failed.
        """
        if self.stalled():
            raise WriteTimeout(f"the database has not committed for over {self.stall_s} s")
        pending = _Pending(_as_row(values))
        self._queue.put(pending)
        deadline = time.monotonic() + timeout_s
        poll_s = self.stall_s / 4  # notice a stall soon after it starts
        while not pending.done.acquire(timeout=max(0.0, min(poll_s, deadline - time.monotonic()))):
            if self.stalled():
                raise WriteTimeout(f"the database has not committed for over {self.stall_s} s")
            if time.monotonic() >= deadline:
                raise WriteTimeout(f"report not committed within {timeout_s} s")
        if pending.error is not None:
            raise pending.error
        return pending.created

    def stalled(self) -> bool:
        """Whether the statement being run has taken longer than ``stall_s``."""
        since = self._busy_since
        return since is not None and time.monotonic() - since > self.stall_s

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Pending] = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                if len(batch) == self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            if batch:
                self._commit_batch(batch)
        self._disconnect()

    def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            self._commit_or_split(batch)
        finally:
            self._busy_since = None
            for pending in batch:
                pending.done.release()

    def _commit_or_split(self, batch: list[_Pending]) -> None:
        """Commit ``batch``; a row the database refuses fails alone, a storage failure all.

        After a failed commit nothing is retried in this process: the rows of the failed
        transaction may be visible (in SQLite's WAL, in the page cache) without being on
        disk, so a retry would find them and answer "already stored". The batch fails with
        :class:`StorageFailure` instead, and the next commit first recovers
        (:meth:`_recover`).
        """
        try:
            self._commit(batch)
            return
        except Exception as exc:
            if self._is_busy(exc):
                self._give_up(batch, exc)
                return
            if not self._is_row_error(exc):
                self._fail(batch, exc)
                return
        # One bad row must not fail its neighbours: retry them one by one.
        log.warning("batch of %d failed on a row; retrying row by row", len(batch))
        for i, pending in enumerate(batch):
            try:
                self._commit([pending])
            except Exception as exc:
                if self._is_busy(exc):
                    self._give_up(batch[i:], exc)
                    return
                if not self._is_row_error(exc):
                    self._fail(batch[i:], exc)
                    return
                pending.error = exc  # handed to the waiting request, re-raised there

    def _is_row_error(self, exc: Exception) -> bool:
        """Whether the database refused the data (a constraint, a value it cannot hold)
        rather than failed to store it."""
        dbapi = self.engine.dialect.loaded_dbapi
        return isinstance(exc, (dbapi.IntegrityError, dbapi.DataError))

    def _is_busy(self, exc: Exception) -> bool:
        """Whether SQLite gave up waiting for its write lock (``SQLITE_BUSY``): nothing of
        the statement was written, so no recovery is needed."""
        return isinstance(exc, sqlite3.OperationalError) and (
            getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            or "database is locked" in str(exc)
        )

    def _give_up(self, batch: list[_Pending], exc: Exception) -> None:
        log.warning("database locked: %d reports not committed (%s)", len(batch), exc)
        for pending in batch:
            pending.error = WriteTimeout(f"the database is locked: {exc}")

    def _fail(self, batch: list[_Pending], exc: Exception) -> None:
        log.error("commit of %d reports failed; none acknowledged", len(batch), exc_info=exc)
        for pending in batch:
            pending.error = StorageFailure(f"the commit failed: {exc}")
            pending.error.__cause__ = exc
        self._recovered = False
        # Drop every connection of this process: nothing read before the failure is
        # trusted, the database is opened again from its files.
        self._disconnect()
        self.engine.dispose()

    def _recover(self) -> None:
        """Before committing again after a failure, prove that what the database shows is
        durable: SQLite checkpoints its WAL into the database file and syncs it (rows of
        the failed transaction that are visible are then on disk, or the checkpoint
        fails); PostgreSQL recovers on its own (it stops on a failed fsync and replays its
        WAL), a new session is enough."""
        cursor = self._connect().cursor()
        try:
            if self._sqlite:
                self._execute(cursor, "PRAGMA wal_checkpoint(FULL)", [])
                busy = cursor.fetchone()[0]
                if busy:
                    raise StorageFailure("the WAL checkpoint could not complete (busy)")
            else:
                cursor.execute("SELECT 1")
        finally:
            cursor.close()
        self._recovered = True

    def _connect(self) -> Any:
        # One long-lived connection of its own (detached from the pool, so its autocommit
        # mode never leaks to other users). A failed batch drops it; the next reconnects.
        if self._conn is None:
            pooled = self.engine.raw_connection()
            conn = pooled.driver_connection
            pooled.detach()
            if not self._sqlite:  # SQLite is in autocommit mode already (db.py)
                conn.rollback()  # e.g. after the pool's pre-ping; autocommit needs no transaction
                conn.autocommit = True
            self._conn = conn
        return self._conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing left to release
                log.debug("closing the writer's connection failed", exc_info=True)
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def _execute(self, cursor: Any, sql: str, params: list[Any]) -> None:
        if self._lock_path is None:
            cursor.execute(sql, params)
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # released by the kernel if we die
        try:
            cursor.execute(sql, params)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            returning = not self._sqlite
            sql = self._sql[rows] = insert_sql(self._paramstyle, rows, returning)
        return sql

    def _commit(self, batch: list[_Pending]) -> None:
        """Insert ``batch`` in one autocommitted statement and mark what it created."""
        params = [value for pending in batch for value in pending.row]
        self._busy_since = time.monotonic()
        try:
            if not self._recovered:
                self._recover()
            cursor = self._connect().cursor()
            try:
                self._execute(cursor, self._statement(len(batch)), params)  # durable on return
                inserted = self._inserted_ids(cursor, len(batch))
            finally:
                cursor.close()
        except Exception:
            self._disconnect()
            raise
        if inserted is None:
            for pending in batch:
                pending.created = True
            return
        for pending in batch:  # the first of several same-id rows in one batch wins
            report_id = pending.row[_ID]
            pending.created = report_id in inserted
            inserted.discard(report_id)

    def _inserted_ids(self, cursor: Any, rows: int) -> set[str] | None:
        """The ids the statement just stored; None when it stored every row."""
        if not self._sqlite:
            return {row[0] for row in cursor.fetchall()}
        count = cursor.rowcount
        if count == rows:
            return None
        if count == 0:
            return set()
        # The rows one statement inserts get consecutive rowids (max + 1 each, under the
        # write lock) and lastrowid is this connection's last one: later writers can't move it.
        last = cursor.lastrowid
        cursor.execute("SELECT report_id FROM reports WHERE seq > ? AND seq <= ?",
                       (last - count, last))  # fmt: skip
        return {row[0] for row in cursor.fetchall()}
