"""The OpenAPI 3.1 document of ``/api/v1``, derived from the pydantic models."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from device_bench import api_models as m
from device_bench.schema import SCHEMA_VERSION, Report

_REF = "#/components/schemas/{model}"
_MODELS: tuple[type[BaseModel], ...] = (
    Report, m.SubmitResponse, m.ReportRecord, m.ReportPage, m.Leaderboard, m.Variants,
    m.ErrorBody, m.Status,
)  # fmt: skip
_ERRORS = {
    "400": "Malformed JSON, a field-level schema error (see details), or a body shorter "
    "than its Content-Length.",
    "401": "A submission token is configured and was not presented.",
    "408": "The body did not arrive within BODY_TIMEOUT_S.",
    "413": "Body larger than MAX_REPORT_BYTES.",
    "415": "Content-Type is not application/json.",
    "429": "Too many submissions from this client; see Retry-After.",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
# Any operation may fail these ways (a bug; a database that is locked, full, read-only or
# unreachable); reads share a rate limit per client.
_SERVER_ERRORS = {
    "500": "Unexpected server error (a bug: please report it).",
    "503": "The database is unavailable (locked, full, read-only, I/O error, unreachable); "
    "retry after Retry-After.",
}
_READ_LIMITED = "Too many read requests from this client; see Retry-After."


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=schema_name)}}}


def _response(description: str, schema_name: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(schema_name)}
    if description.rstrip(".").endswith("Retry-After"):
        response["headers"] = _RETRY_AFTER
    return response


def _server_errors() -> dict[str, Any]:
    return {code: _response(text, "ErrorBody") for code, text in _SERVER_ERRORS.items()}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One ``in: query`` parameter per field of a query model."""
    schema = model.model_json_schema(ref_template=_REF)
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": prop,
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


def _csv(description: str) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}}
    }


def _get(
    summary: str, responses: dict[str, Any], params: list | None = None, limited: bool = True
) -> dict:
    """A GET operation; ``limited``: it takes a read rate-limit token (429)."""
    errors = {"429": _response(_READ_LIMITED, "ErrorBody")} if limited else {}
    common = {**errors, **_server_errors()}
    responses = {**responses, **{k: v for k, v in common.items() if k not in responses}}
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


_REPORT_ID = {
    "name": "report_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _report_paths() -> dict[str, Any]:
    errors = {code: _response(text, "ErrorBody") for code, text in _ERRORS.items()}
    query = _query_parameters(m.ReportQuery)
    listing = _get(
        "List reports, newest first.",
        {"200": _response("A page of reports.", "ReportPage"), "400": errors["400"]},
        query,
    )
    submit = {
        "summary": "Submit a benchmark report (report_id is the idempotency key).",
        "requestBody": {"required": True, "content": _json("Report")},
        "responses": {
            "201": _response("Stored now; validity computed.", "SubmitResponse"),
            "200": _response("Already stored: the existing verdict.", "SubmitResponse"),
            **errors,
            **_server_errors(),
            "503": _response(
                "Not committed (the database is locked, stalled, full, read-only or failed "
                "to commit); nothing was acknowledged, retry with the same id after "
                "Retry-After.",
                "ErrorBody",
            ),
        },
    }
    return {
        "/reports": {"post": submit, **listing},
        "/reports.csv": _get(
            "Reports as CSV (paginated like /reports).", _csv("One line per report."), query
        ),
        "/reports/{report_id}": _get(
            "One stored report.",
            {
                "200": _response("The report.", "ReportRecord"),
                "404": _response("Unknown id (or not a UUID).", "ErrorBody"),
            },
            [_REPORT_ID],
        ),
    }


def _summary_paths() -> dict[str, Any]:
    filters = _query_parameters(m.ReportFilters)
    bad_query = _response("A malformed query parameter.", "ErrorBody")
    return {
        "/leaderboard": _get(
            "Medians per device x model variant x runtime x backend, a page of cells.",
            {"200": _response("Cells.", "Leaderboard"), "400": bad_query},
            _query_parameters(m.LeaderboardQuery),
        ),
        "/leaderboard.csv": _get(
            "Leaderboard as CSV (every cell).",
            {**_csv("One line per cell."), "400": bad_query},
            filters,
        ),
        "/variants": _get(
            "Speed/accuracy of each model variant.",
            {"200": _response("Variants.", "Variants"), "400": bad_query},
            filters,
        ),
        "/protocol": _get(
            "The benchmark protocol constants.", {"200": {"description": "Protocol."}}
        ),
        "/openapi.json": _get("This document.", {"200": {"description": "OpenAPI 3.1."}}),
        "/live": _get(
            "Liveness: the server process answers (no database access, not rate limited).",
            {"200": _response("Alive.", "Status")},
            limited=False,
        ),
        "/ready": _get(
            "Readiness: a test write round-trips through the database.",
            {
                "200": _response("Ready: a write was committed and read back.", "Status"),
                "503": _response(
                    "Not ready: the test write failed or the database is locked; "
                    "retry after Retry-After.",
                    "ErrorBody",
                ),
            },
        ),
    }


@functools.cache
def openapi_document(server_url: str = "/api/v1") -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for the API mounted at ``server_url``."""
    _, defs = models_json_schema([(model, "validation") for model in _MODELS], ref_template=_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Device benchmark collector",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "Collects on-device detector benchmark reports (schema v1).",
        },
        "servers": [{"url": server_url}],
        "paths": {**_report_paths(), **_summary_paths()},
        "components": {"schemas": defs["$defs"]},
    }
