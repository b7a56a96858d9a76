"""Versioned schema migrations: numbered steps recorded in ``schema_migrations``.

Each step is frozen once released (it describes history, not the current model in
:mod:`device_bench.tables`); a new schema change is a new step appended to ``STEPS``.
:func:`migrate` runs the pending steps in one transaction under a database-wide lock,
so several gunicorn workers starting at once apply each step exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
)

_ADVISORY_LOCK_KEY = 0x6465_7662  # "devb": serialises migrations on PostgreSQL

_history = MetaData()
schema_migrations = Table(
    "schema_migrations",
    _history,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Step:
    """One schema change: ``apply`` runs inside the migration transaction."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_reports(conn: Connection) -> None:
    frozen = MetaData()
    Table(
        "reports",
        frozen,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("report_id", String(36), nullable=False, unique=True),
        Column("received_at", Float, nullable=False),
        Column("protocol_version", Integer, nullable=False),
        Column("device_name", String(200), nullable=False),
        Column("runtime_name", String(40), nullable=False),
        Column("backend", String(40), nullable=False),
        Column("model_name", String(100), nullable=False),
        Column("model_format", String(20), nullable=False),
        Column("quantization", String(40), nullable=False),
        Column("fps", Float, nullable=False),
        Column("p50_ms", Float, nullable=False),
        Column("p90_ms", Float, nullable=False),
        Column("valid", Boolean, nullable=False),
        Column("reasons", Text, nullable=False),
        Column("payload", Text, nullable=False),
    )
    frozen.create_all(conn)


def _index_leaderboard(conn: Connection) -> None:
    reports = Table("reports", MetaData(), autoload_with=conn)
    Index(
        "ix_reports_cell",
        reports.c.valid,
        reports.c.model_name,
        reports.c.model_format,
        reports.c.quantization,
        reports.c.backend,
        reports.c.device_name,
    ).create(conn)


def _create_readiness_probe(conn: Connection) -> None:
    frozen = MetaData()
    Table(
        "readiness_probe",
        frozen,
        Column("name", String(100), primary_key=True),
        Column("token", String(64), nullable=False),
        Column("checked_at", Float, nullable=False),
    )
    frozen.create_all(conn)


def _add_variant_map(conn: Connection) -> None:
    # Nullable: reports stored before (and clients that do not send it) have no mAP.
    conn.execute(text("ALTER TABLE reports ADD COLUMN map FLOAT"))


STEPS: tuple[Step, ...] = (
    Step(1, "create reports", _create_reports),
    Step(2, "index the leaderboard dimensions", _index_leaderboard),
    Step(3, "create the readiness probe table", _create_readiness_probe),
    Step(4, "reports carry the variant's mAP", _add_variant_map),
)


def _lock(conn: Connection) -> None:
    """Take a database-wide lock held until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    # SQLite: the connection began with BEGIN IMMEDIATE (see db.py), the write lock.


def applied_versions(conn: Connection) -> set[int]:
    """Return the versions already recorded (empty for a fresh database)."""
    _history.create_all(conn, checkfirst=True)
    return set(conn.scalars(select(schema_migrations.c.version)))


def migrate(engine: Engine, steps: tuple[Step, ...] = STEPS) -> list[int]:
    """Apply the pending steps in order; return the versions applied by this call."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        with conn.begin():
            _lock(conn)
            done = applied_versions(conn)
            pending = [s for s in sorted(steps, key=lambda s: s.version) if s.version not in done]
            for step in pending:
                step.apply(conn)
                conn.execute(
                    schema_migrations.insert().values(
                        version=step.version, description=step.description, applied_at=time.time()
                    )
                )
    return [s.version for s in pending]
