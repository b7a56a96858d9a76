"""Reading and writing reports: queries in SQLAlchemy Core; rows go in through the
group-commit writer (:mod:`device_bench.writer`), one row per accepted report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select

from device_bench.schema import Report
from device_bench.tables import reports
from device_bench.validity import Validity
from device_bench.writer import BatchWriter

# Query-string filter name -> column; "device" matches a case-insensitive substring so
# "iPhone" finds every iPhone model.
FILTER_COLUMNS = {
    "model": reports.c.model_name,
    "format": reports.c.model_format,
    "quantization": reports.c.quantization,
    "runtime": reports.c.runtime_name,
    "backend": reports.c.backend,
    "valid": reports.c.valid,
}


@dataclass(frozen=True)
class StoredReport:
    """A report as stored, with the server's verdict."""

    id: str
    seq: int
    received_at: float
    valid: bool
    reasons: list[str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class SaveResult:
    """Outcome of :func:`save_report`: ``created`` is False for a repeated report_id."""

    id: str
    valid: bool
    reasons: list[str]
    created: bool


class StorageError(RuntimeError):
    """The database contradicted itself (a conflict on an id it then does not have)."""


def _row_values(report: Report, validity: Validity, payload_json: str) -> dict[str, Any]:
    return {
        "report_id": str(report.report_id),
        "received_at": time.time(),
        "protocol_version": report.protocol_version,
        "device_name": report.device.name,
        "runtime_name": report.runtime.name,
        "backend": report.runtime.backend,
        "model_name": report.model.name,
        "model_format": report.model.format,
        "quantization": report.model.quantization,
        "fps": report.timing.fps,
        "p50_ms": report.timing.latency_ms.p50,
        "p90_ms": report.timing.latency_ms.p90,
        "valid": validity.valid,
        "reasons": _reasons_json(validity.reasons),
        "payload": payload_json,
        "map": report.model.map,
    }


def _reasons_json(reasons: tuple[str, ...]) -> str:
    return json.dumps(list(reasons)) if reasons else "[]"


def _to_stored(row: Row[Any]) -> StoredReport:
    return StoredReport(
        id=row.report_id,
        seq=row.seq,
        received_at=row.received_at,
        valid=bool(row.valid),
        reasons=json.loads(row.reasons),
        payload=json.loads(row.payload),
    )


def save_report(
    writer: BatchWriter, report: Report, validity: Validity, conn: Callable[[], Connection]
) -> SaveResult:
    """Store ``report`` once, durably; a repeated ``report_id`` returns the existing verdict.

    The unique constraint on ``report_id`` decides (``ON CONFLICT DO NOTHING``), so
    concurrent duplicates from several workers or hosts still store exactly one row.
    ``conn`` is called only for a duplicate, to read the stored verdict.
    """
    values = _row_values(report, validity, report.model_dump_json())
    report_id = values["report_id"]
    if writer.insert(values):
        return SaveResult(report_id, validity.valid, list(validity.reasons), True)
    existing = fetch_report(conn(), report_id)
    if existing is None:
        raise StorageError(f"report {report_id} conflicted but is not stored")
    return SaveResult(existing.id, existing.valid, existing.reasons, created=False)


def fetch_report(conn: Connection, report_id: str) -> StoredReport | None:
    """Return the stored report with this id, or None."""
    row = conn.execute(select(reports).where(reports.c.report_id == report_id)).first()
    return _to_stored(row) if row is not None else None


def _filtered(query: Select[Any], filters: dict[str, Any]) -> Select[Any]:
    for name, value in filters.items():
        if value is None:
            continue
        if name == "device":
            needle = value.lower()
            query = query.where(func.lower(reports.c.device_name).contains(needle, autoescape=True))
        else:
            query = query.where(FILTER_COLUMNS[name] == value)
    return query


def _max_seq(conn: Connection) -> int:
    """The largest ``seq`` the column holds: SERIAL (int4) on PostgreSQL, int8 on SQLite."""
    return 2**31 - 1 if conn.dialect.name == "postgresql" else 2**63 - 1


def list_reports(
    conn: Connection, filters: dict[str, Any], limit: int, before: int | None = None
) -> list[StoredReport]:
    """Return up to ``limit`` reports, newest first, with ``seq < before`` when given."""
    query = _filtered(select(reports), filters).order_by(reports.c.seq.desc()).limit(limit)
    # Past the column's range every seq is below ``before``: no bound (and no overflow).
    if before is not None and before <= _max_seq(conn):
        query = query.where(reports.c.seq < before)
    return [_to_stored(row) for row in conn.execute(query)]


def iter_samples(conn: Connection, filters: dict[str, Any]) -> Iterator[Row[Any]]:
    """Yield the leaderboard columns of the valid reports matching ``filters``."""
    query = select(
        reports.c.device_name.label("device"),
        reports.c.model_name.label("model"),
        reports.c.model_format.label("format"),
        reports.c.quantization,
        reports.c.runtime_name.label("runtime"),
        reports.c.backend,
        reports.c.fps,
        reports.c.p50_ms,
        reports.c.p90_ms,
        reports.c.map,
    ).where(reports.c.valid.is_(True))
    result = conn.execute(_filtered(query, {**filters, "valid": None}))
    for rows in result.partitions(1000):  # fetchmany: a row at a time costs more per row
        yield from rows


DIMENSION_COLUMNS = {"device": reports.c.device_name, **FILTER_COLUMNS}


def distinct_values(conn: Connection, dimension: str, limit: int | None = None) -> list[str]:
    """Return the distinct values of a leaderboard dimension among valid reports, sorted
    case-insensitively; the first ``limit`` only when given."""
    column = DIMENSION_COLUMNS[dimension]
    query = (
        select(column)
        .where(reports.c.valid.is_(True))
        .group_by(column)
        .order_by(func.lower(column), column)
        .limit(limit)
    )
    return list(conn.scalars(query))


def count_reports(conn: Connection) -> int:
    """Return how many reports are stored (valid or not)."""
    return conn.scalar(select(func.count()).select_from(reports)) or 0
