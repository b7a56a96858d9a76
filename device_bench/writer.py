"""Group commit: one writer thread per process commits the reports of many requests at once.

A durable commit costs an fsync (~3 ms on this machine's disk with SQLite
``synchronous=FULL``), so committing each report alone caps a process at ~300 reports/s.
Requests instead hand their row to the writer and wait; the writer inserts everything
that queued up during the previous commit with one multi-row ``INSERT ... ON CONFLICT
(report_id) DO NOTHING RETURNING report_id`` and one commit, then wakes the requests.
Nothing is acknowledged before its commit returns, and a batch is as large as the load
makes it (no timer): one report alone is committed at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Insert
from sqlalchemy.dialects import postgresql, sqlite

from device_bench.tables import reports

log = logging.getLogger(__name__)

MAX_BATCH = 256  # bounds one transaction's size (and its latency)


class WriteTimeout(RuntimeError):
    """The database did not commit the report in time; it may or may not be stored."""


@dataclass
class _Pending:
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    created: bool = False
    error: BaseException | None = None


def insert_ignoring_duplicates(dialect: str) -> Insert:
    """``INSERT INTO reports ... ON CONFLICT (report_id) DO NOTHING RETURNING report_id``."""
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(reports).on_conflict_do_nothing(index_elements=[reports.c.report_id])
    return stmt.returning(reports.c.report_id)


class BatchWriter:
    """Insert report rows from many threads, committing them in shared transactions.

    Args:
        engine: Where to write.
        max_batch: Most rows per transaction.
    """

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._stmt = insert_ignoring_duplicates(engine.dialect.name)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()  # None: stop
        self._conn: Connection | None = None  # used by the writer thread only
        self._thread = threading.Thread(target=self._run, name="device-bench-writer", daemon=True)
        self._thread.start()

    def insert(self, values: dict[str, Any], timeout_s: float = 30.0) -> bool:
        """Store one row durably; return False if its ``report_id`` was already stored.

        Raises:
            WriteTimeout: The commit did not finish within ``timeout_s``.
        """
        pending = _Pending(values)
        self._queue.put(pending)
        if not pending.done.wait(timeout_s):
            raise WriteTimeout(f"report not committed within {timeout_s} s")
        if pending.error is not None:
            raise pending.error
        return pending.created

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
        if self._conn is not None:
            self._conn.close()

    def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            self._commit(batch)
        except Exception:  # one bad row must not fail its neighbours: retry them one by one
            log.warning("batch of %d failed; retrying row by row", len(batch), exc_info=True)
            for pending in batch:
                try:
                    self._commit([pending])
                except Exception as exc:  # handed to the waiting request, re-raised there
                    pending.error = exc
        finally:
            for pending in batch:
                pending.done.set()

    def _commit(self, batch: list[_Pending]) -> None:
        # One long-lived connection: checking one out of the pool per batch costs more
        # CPU than the insert itself. A failed batch drops it; the next one reconnects.
        if self._conn is None:
            self._conn = self.engine.connect()
        try:
            with self._conn.begin():
                inserted = set(self._conn.scalars(self._stmt, [p.values for p in batch]))
        except Exception:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
            raise
        for pending in batch:  # the first of several same-id rows in one batch wins
            report_id = pending.values["report_id"]
            pending.created = report_id in inserted
            inserted.discard(report_id)
