"""The ``/api/v1`` blueprint: submit, list and export reports; leaderboard; protocol; OpenAPI;
liveness and readiness.

Every read takes a token of the read rate limit (:mod:`device_bench.read_limit`) except
liveness; the leaderboard aggregates come from :mod:`device_bench.aggregate_cache`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from pydantic import BaseModel, ValidationError

from device_bench import aggregate_cache, errors, leaderboard, readiness, store
from device_bench.api_models import LeaderboardQuery, ReportFilters, ReportQuery
from device_bench.csv_export import REPORT_COLUMNS, report_row, to_csv
from device_bench.db import SQLITE_BUSY_TIMEOUT_MS, get_db, get_engine, get_writer
from device_bench.openapi import openapi_document
from device_bench.read_limit import limited
from device_bench.submit import submit
from sdk.bench.protocol import protocol_dict

bp = Blueprint("device_bench_api", __name__, url_prefix="/api/v1")
errors.register_handlers(bp)

REPORTS_PATH = f"{bp.url_prefix}/reports"
_Q = TypeVar("_Q", bound=BaseModel)


def _parse_query(model: type[_Q]) -> _Q:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise errors.InvalidQuery("invalid query parameter", errors.field_errors(exc)) from exc


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _record(stored: store.StoredReport) -> dict[str, Any]:
    return {
        "id": stored.id,
        "received_at": _iso(stored.received_at),
        "valid": stored.valid,
        "reasons": stored.reasons,
        "report": stored.payload,
    }


def _csv_response(body: str, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/reports")
def submit_report() -> Response:
    """Store a report once (idempotent on report_id) and return its validity."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    accepted = submit(app, request.environ)
    return current_app.response_class(
        accepted.body, status=accepted.status, headers=accepted.headers()
    )


@bp.get("/reports")
@limited
def list_reports() -> Response:
    """List reports, newest first, with filters and keyset pagination."""
    query = _parse_query(ReportQuery)
    limit = min(query.limit, int(current_app.config["PAGE_SIZE_MAX"]))
    rows = store.list_reports(get_db(), query.as_dict(), limit, before=query.cursor)
    next_cursor = rows[-1].seq if len(rows) == limit else None
    return jsonify({"items": [_record(r) for r in rows], "next_cursor": next_cursor})


@bp.get("/reports.csv")
@limited
def reports_csv() -> Response:
    """Export the matching reports (newest first, up to PAGE_SIZE_MAX per page) as CSV."""
    query = _parse_query(ReportQuery)
    limit = min(query.limit, int(current_app.config["PAGE_SIZE_MAX"]))
    rows = store.list_reports(get_db(), query.as_dict(), limit, before=query.cursor)
    lines = (report_row(r, _iso(r.received_at)) for r in rows)
    return _csv_response(to_csv(lines, REPORT_COLUMNS), "reports.csv")


@bp.get("/reports/<report_id>")
@limited
def get_report(report_id: str) -> Response:
    """Return one stored report with its verdict."""
    try:
        canonical = str(uuid.UUID(report_id))  # ids are stored in this form
    except ValueError:  # not a UUID (a NUL, a long string...): no report can have it
        canonical = None
    stored = store.fetch_report(get_db(), canonical) if canonical else None
    if stored is None:
        raise errors.NotFound(f"no report with id {report_id[:100]!r}")
    return jsonify(_record(stored))


def leaderboard_cells(filters: ReportFilters) -> list[dict[str, Any]]:
    """Return the leaderboard cells of the valid reports matching ``filters`` (cached: do
    not modify them)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    min_reports = int(app.config["MIN_REPORTS"])

    def compute() -> list[dict[str, Any]]:
        return leaderboard.cells(store.iter_samples(get_db(), filters.as_dict()), min_reports)

    return aggregate_cache.of(app).get(("cells", filters), compute)


def variant_points(filters: ReportFilters) -> list[dict[str, Any]]:
    """Return the variants summary of the valid reports matching ``filters`` (cached)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    metrics = app.config["MODEL_METRICS"] or {}

    def compute() -> list[dict[str, Any]]:
        return leaderboard.variants(store.iter_samples(get_db(), filters.as_dict()), metrics)

    return aggregate_cache.of(app).get(("variants", filters), compute)


@bp.get("/leaderboard")
@limited
def get_leaderboard() -> Response:
    """Median FPS and latency per device x model x format x quantization x runtime x backend,
    a page of ``limit`` cells from ``offset``."""
    query = _parse_query(LeaderboardQuery)
    cells = leaderboard_cells(ReportFilters(**query.as_dict()))
    end = query.offset + query.limit
    return jsonify({
        "min_reports": current_app.config["MIN_REPORTS"],
        "cells": cells[query.offset : end],
        "total": len(cells),
        "next_offset": end if end < len(cells) else None,
    })  # fmt: skip


@bp.get("/leaderboard.csv")
@limited
def leaderboard_csv() -> Response:
    """The leaderboard as CSV."""
    cells = leaderboard_cells(_parse_query(ReportFilters))
    columns = [
        *leaderboard.CELL_KEYS,
        "median_fps",
        "p50_latency_ms",
        "p90_latency_ms",
        "count",
        "low_count",
    ]
    return _csv_response(to_csv(cells, columns), "leaderboard.csv")


@bp.get("/variants")
@limited
def get_variants() -> Response:
    """Speed (median over matching devices) and accuracy (MODEL_METRICS) per variant and
    runtime."""
    return jsonify({"items": variant_points(_parse_query(ReportFilters))})


@bp.get("/protocol")
@limited
def get_protocol() -> Response:
    """The protocol constants, so the browser runs exactly what the CLI runs."""
    return jsonify(protocol_dict())


@bp.get("/openapi.json")
@limited
def get_openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document(url_for(".get_protocol").rsplit("/", 1)[0]))


@bp.get("/live")
def get_live() -> Response:
    """Liveness: the process answers (no database access, no rate limit)."""
    return jsonify({"status": "alive"})


@bp.get("/ready")
@limited
def get_ready() -> Response:
    """Readiness: 200 when a test write round-trips through the database, else 503."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if get_writer(app).stalled():
        raise errors.NotReady("the database has stopped committing (locked or stalled)")
    try:
        readiness.probe(
            get_engine(app), float(app.config["READY_TIMEOUT_S"]), SQLITE_BUSY_TIMEOUT_MS
        )
    except readiness.NotReady as exc:
        app.logger.warning("not ready: %s", exc)  # the cause stays in the log, not the answer
        raise errors.NotReady("a test write to the database failed") from exc
    return jsonify({"status": "ready"})
