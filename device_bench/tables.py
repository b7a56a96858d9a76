"""The current database tables, as SQLAlchemy Core objects used by the queries.

The schema itself is created and evolved only by :mod:`device_bench.migrations`; a test
checks that a migrated database has exactly these columns.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per accepted report: the full JSON plus the leaderboard dimensions as columns.
reports = Table(
    "reports",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # arrival order, cursor
    Column("report_id", String(36), nullable=False, unique=True),  # idempotency key
    Column("received_at", Float, nullable=False),  # server clock, unix seconds
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
    Column("reasons", Text, nullable=False),  # JSON list of strings
    Column("payload", Text, nullable=False),  # the report as validated, JSON
    Column("map", Float, nullable=True),  # the variant's mAP the report carries (model.map)
)

# One row per server process: the readiness check (device_bench.readiness) writes a fresh
# token here and reads it back, proving that a write reaches the database.
readiness_probe = Table(
    "readiness_probe",
    metadata,
    Column("name", String(100), primary_key=True),  # host:pid of the probing process
    Column("token", String(64), nullable=False),
    Column("checked_at", Float, nullable=False),  # server clock, unix seconds
)
