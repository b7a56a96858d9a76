"""Typed API errors and the JSON error body every ``/api/v1`` failure uses.

Body: ``{"error": code, "message": text, "details": [{"loc": "a.b", "msg": ..., "type": ...}]}``,
plus ``"details_omitted": n`` when more than :data:`MAX_DETAILS` problems were found.
:func:`render` builds the whole answer (status, headers, bytes) without Flask, so the
Flask handlers and :mod:`device_bench.fastpath` send the same bytes for the same error.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

Headers = list[tuple[str, str]]

# An error body stays small whatever the input: a report with 5,000 unknown keys has
# 5,000 problems, and echoing them all made a 434 KB answer to a 40 KB request.
MAX_DETAILS = 20
MAX_DETAIL_CHARS = 200  # per loc and per msg (a loc holds the client's own key names)

# Database errors that mean "cannot reach or use the storage now" (lost connection, locked,
# disk I/O error, disk full, read-only), as opposed to a bug: answered 503 + Retry-After.
STORAGE_ERRORS = (OperationalError, InterfaceError)


class ApiError(Exception):
    """An error answered with ``status`` and a JSON body naming ``code``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    extra_headers: tuple[tuple[str, str], ...] = ()
    retry_after_s: int | None = None  # set: the answer says when to retry (Retry-After)

    def headers(self) -> Headers:
        """Headers this error adds to its answer."""
        retry = [] if self.retry_after_s is None else [("Retry-After", str(self.retry_after_s))]
        return [*self.extra_headers, *retry]


class InvalidReport(ApiError):
    """The body is not valid JSON or does not match the report schema."""

    code = "invalid_report"


class InvalidQuery(ApiError):
    """A query-string parameter is malformed."""

    code = "invalid_query"


class Unauthorized(ApiError):
    """A submission token is configured and the request did not present it."""

    status = 401
    code = "unauthorized"
    extra_headers = (("WWW-Authenticate", "Bearer"),)


class NotFound(ApiError):
    """No stored report has this id."""

    status = 404
    code = "not_found"


class AmbiguousLength(ApiError):
    """The request has both ``Content-Length`` and ``Transfer-Encoding``: servers and
    proxies may disagree on where its body ends (request smuggling), so it is refused."""

    code = "ambiguous_length"
    extra_headers = (("Connection", "close"),)  # where the next request starts is unclear


class IncompleteBody(ApiError):
    """The body ended before the length its ``Content-Length`` announced."""

    code = "incomplete_body"


class RequestTimeout(ApiError):
    """The client did not send its whole body within ``BODY_TIMEOUT_S``."""

    status = 408
    code = "request_timeout"
    extra_headers = (("Connection", "close"),)  # the rest of the body may still arrive


class BodyTooLarge(ApiError):
    """The body is larger than ``MAX_REPORT_BYTES``."""

    status = 413
    code = "request_entity_too_large"


class UnsupportedMediaType(ApiError):
    """The body is not declared as ``application/json``."""

    status = 415
    code = "unsupported_media_type"


class RateLimited(ApiError):
    """The client sent more reports than the rate limit allows."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StorageBusy(ApiError):
    """The report could not be committed in time; the client should retry (same id)."""

    status = 503
    code = "storage_busy"
    retry_after_s = 1


class StorageUnavailable(StorageBusy):
    """The database failed to commit (I/O error, lost connection): nothing was acknowledged,
    the client should retry (same id) once the server has recovered."""

    code = "storage_unavailable"
    retry_after_s = 5


class NotReady(StorageUnavailable):
    """The readiness check's test write did not round-trip."""

    code = "not_ready"


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Turn pydantic errors into ``{"loc", "msg", "type"}`` with a dotted location."""
    return [
        {
            "loc": ".".join(str(p) for p in err["loc"]) or "body",
            "msg": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


def render(
    status: int, code: str, message: str, details: list | None = None, headers: Headers = ()
) -> tuple[int, Headers, bytes]:
    """The error answer: status, headers (with Content-Type and Content-Length) and body.

    At most :data:`MAX_DETAILS` details are sent, each ``loc``/``msg`` cut to
    :data:`MAX_DETAIL_CHARS`; ``details_omitted`` says how many more there were.
    """
    details = details or []
    document: dict[str, Any] = {
        "details": [_capped(d) for d in details[:MAX_DETAILS]],
        "error": code,
        "message": message,
    }
    if len(details) > MAX_DETAILS:
        document["details_omitted"] = len(details) - MAX_DETAILS
    body = (json.dumps(document, separators=(",", ":")) + "\n").encode()
    return (
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
        body,
    )


def _capped(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value[:MAX_DETAIL_CHARS] + "…"
        if isinstance(value, str) and len(value) > MAX_DETAIL_CHARS
        else value
        for key, value in detail.items()
    }


def render_exception(exc: ApiError | HTTPException) -> tuple[int, Headers, bytes]:
    """:func:`render` for an API error or one raised by Flask/werkzeug (405, 413, ...)."""
    if isinstance(exc, ApiError):
        return render(exc.status, exc.code, exc.message, exc.details, exc.headers())
    code = (exc.name or "error").lower().replace(" ", "_")
    return render(exc.code or 500, code, exc.description or exc.name)


def storage_unavailable() -> StorageUnavailable:
    """The error answered when a read or write cannot reach or use the database."""
    return StorageUnavailable("the database is unavailable; retry later")


def _handle_error(exc: ApiError | HTTPException) -> Response:
    status, headers, body = render_exception(exc)
    return Response(body, status=status, headers=headers)


def _handle_storage_error(exc: Exception) -> Response:
    current_app.logger.warning("database unavailable: %s", exc)
    return _handle_error(storage_unavailable())


def register_handlers(bp: Blueprint, http_errors: bool = True) -> None:
    """Answer the errors raised inside ``bp`` with the JSON error body (a database that
    cannot be reached or used: 503 ``storage_unavailable`` with ``Retry-After``);
    ``http_errors=False`` leaves Flask's own (404, 405...) to the app (HTML pages)."""
    bp.register_error_handler(ApiError, _handle_error)
    if http_errors:
        bp.register_error_handler(HTTPException, _handle_error)
    for error in STORAGE_ERRORS:
        bp.register_error_handler(error, _handle_storage_error)
