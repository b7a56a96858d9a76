"""Typed API errors and the JSON error body every ``/api/v1`` failure uses.

Body: ``{"error": code, "message": text, "details": [{"loc": "a.b", "msg": ..., "type": ...}]}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error answered with ``status`` and a JSON body naming ``code``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


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


class NotFound(ApiError):
    """No stored report has this id."""

    status = 404
    code = "not_found"


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


def error_response(status: int, code: str, message: str, details: list | None = None) -> Response:
    """Build the JSON error response."""
    response = jsonify({"error": code, "message": message, "details": details or []})
    response.status_code = status
    return response


def _handle_api_error(exc: ApiError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _handle_http_error(exc: HTTPException) -> Response:
    # 405, 413 (body over the limit) etc. raised by Flask/werkzeug, answered as JSON too.
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)


def register_handlers(bp: Blueprint) -> None:
    """Answer every error raised inside ``bp`` with the JSON error body."""
    bp.register_error_handler(ApiError, _handle_api_error)
    bp.register_error_handler(HTTPException, _handle_http_error)
