"""Typed API errors and the JSON error body every ``/api/v1`` failure uses.

Body: ``{"error": code, "message": text, "details": [{"loc": "a.b", "msg": ..., "type": ...}]}``.
:func:`render` builds the whole answer (status, headers, bytes) without Flask, so the
Flask handlers and :mod:`device_bench.fastpath` send the same bytes for the same error.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

Headers = list[tuple[str, str]]


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
    """The error answer: status, headers (with Content-Type and Content-Length) and body."""
    document = {"details": details or [], "error": code, "message": message}
    body = (json.dumps(document, separators=(",", ":")) + "\n").encode()
    return status, [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *headers,
    ], body


def render_exception(exc: ApiError | HTTPException) -> tuple[int, Headers, bytes]:
    """:func:`render` for an API error or one raised by Flask/werkzeug (405, 413, ...)."""
    if isinstance(exc, ApiError):
        return render(exc.status, exc.code, exc.message, exc.details, exc.headers())
    code = (exc.name or "error").lower().replace(" ", "_")
    return render(exc.code or 500, code, exc.description or exc.name)


def _handle_error(exc: ApiError | HTTPException) -> Response:
    status, headers, body = render_exception(exc)
    return Response(body, status=status, headers=headers)


def register_handlers(bp: Blueprint) -> None:
    """Answer every error raised inside ``bp`` with the JSON error body."""
    bp.register_error_handler(ApiError, _handle_error)
    bp.register_error_handler(HTTPException, _handle_error)
