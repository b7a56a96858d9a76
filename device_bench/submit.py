"""Accepting one report: every check of a submission, and the store, for both request paths.

The Flask route (:func:`device_bench.api.submit_report`) and the WSGI fast path
(:mod:`device_bench.fastpath`) both call :func:`submit` with the request's WSGI environ,
so a submission is checked and answered the same way whichever path took it: rate limit,
token, content type, unambiguous framing, size, a body read that is complete and bounded
in time, JSON + schema v1, validity, durable store. Refusals are raised as
:class:`~device_bench.errors.ApiError` for the caller to render.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from flask import Flask
from pydantic import ValidationError
from sqlalchemy import Connection
from werkzeug.http import parse_options_header

from device_bench import aggregate_cache, errors, store, validity
from device_bench.db import get_engine, get_writer
from device_bench.ratelimit import TokenBucket, retry_after_s
from device_bench.read_deadline import BoundedRead
from device_bench.schema import Report
from device_bench.writer import StorageFailure, WriteTimeout

RATE_LIMITER_KEY = "device_bench.ratelimit"  # app.extensions key of the TokenBucket
JSON = "application/json"
_compact = json.JSONEncoder(separators=(",", ":")).encode  # what jsonify sends, minus sorting


@dataclass(frozen=True)
class Accepted:
    """A stored submission's answer: 201 when stored now, 200 when the id was stored before."""

    status: int
    body: bytes
    location: str

    def headers(self) -> list[tuple[str, str]]:
        """Content-Type, Content-Length and Location."""
        return [
            ("Content-Type", JSON),
            ("Content-Length", str(len(self.body))),
            ("Location", self.location),
        ]


def make_rate_limiter(config: Mapping[str, Any], prefix: str = "") -> TokenBucket | None:
    """Return the token bucket ``{prefix}RATE_LIMIT_PER_MINUTE``/``_BURST`` ask for (prefix
    ``""``: submissions, ``"READ_"``: reads), or None when that limit is off."""
    rate = config.get(f"{prefix}RATE_LIMIT_PER_MINUTE")
    return TokenBucket(rate, int(config[f"{prefix}RATE_LIMIT_BURST"])) if rate else None


def submit(app: Flask, environ: dict[str, Any]) -> Accepted:
    """Check, validate and store the report ``environ`` carries; raise ApiError to refuse it.

    Idempotent on ``report_id``: a repeated id answers 200 with the stored verdict.
    """
    config = app.config
    _check_rate_limit(app.extensions.get(RATE_LIMITER_KEY), environ)
    _check_token(config.get("SUBMIT_TOKEN"), environ)
    _check_content_type(environ)
    body = read_body(environ, int(config["MAX_REPORT_BYTES"]), config["BODY_TIMEOUT_S"])
    report = parse_report(body)
    verdict = validity.check(report, config["KNOWN_MODEL_HASHES"])
    saved = _save(app, report, verdict)
    if saved.created:
        aggregate_cache.of(app).invalidate()  # this worker's readers see the report at once
    answer = _compact({"id": saved.id, "valid": saved.valid, "reasons": saved.reasons})
    # The request's own path plus the id: what url_for(".get_report") gives.
    location = f"{environ.get('SCRIPT_NAME', '').rstrip('/')}{environ['PATH_INFO']}/{saved.id}"
    return Accepted(201 if saved.created else 200, (answer + "\n").encode(), location)


def _check_rate_limit(bucket: TokenBucket | None, environ: Mapping[str, Any]) -> None:
    retry = retry_after_s(bucket, environ.get("REMOTE_ADDR") or "unknown")
    if retry:
        raise errors.RateLimited("too many reports from this client", retry_after_s=retry)


def _check_token(token: str | None, environ: Mapping[str, Any]) -> None:
    if not token:
        return
    sent = environ.get("HTTP_AUTHORIZATION", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise errors.Unauthorized("a valid 'Authorization: Bearer <token>' header is required")


def _check_content_type(environ: Mapping[str, Any]) -> None:
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type != JSON and parse_options_header(content_type)[0].lower() != JSON:
        raise errors.UnsupportedMediaType("send the report as Content-Type: application/json")


def _content_length(environ: Mapping[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None  # absent or malformed: as werkzeug, read only a self-terminated body
    return length if length >= 0 else None


def read_body(environ: Mapping[str, Any], limit: int, timeout_s: float | None) -> bytes:
    """Read the whole body: at most ``limit`` bytes, within ``timeout_s`` in total.

    A body with a ``Content-Length`` must have that many bytes; one without (chunked)
    is read to its end if the server says it ends (``wsgi.input_terminated``), else it
    is taken as empty.

    Raises:
        AmbiguousLength: Both ``Content-Length`` and ``Transfer-Encoding`` are present.
        BodyTooLarge: Over ``limit`` (declared or sent).
        RequestTimeout: The client did not send the body in time.
        IncompleteBody: The body ended before its ``Content-Length``.
    """
    if environ.get("HTTP_TRANSFER_ENCODING") and environ.get("CONTENT_LENGTH"):
        # RFC 9112 6.3: such a message is likely a smuggling attempt; a server that
        # answers it must close the connection afterwards.
        raise errors.AmbiguousLength("send either Content-Length or Transfer-Encoding, not both")
    length = _content_length(environ)
    if length is not None and length > limit:
        raise errors.BodyTooLarge(f"a report may not exceed {limit} bytes")
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    wanted = limit + 1 if length is None else length
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    received = 0
    cut = False  # the stream failed (a broken chunked encoding, a reset connection)
    with BoundedRead(environ, timeout_s) as bound:
        while received < wanted:
            try:
                chunk = stream.read(wanted - received)
            except OSError:
                cut = True
                break
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    if received > limit:
        raise errors.BodyTooLarge(f"a report may not exceed {limit} bytes")
    short = cut or (length is not None and received < length)
    if bound.expired and (short or length is None):
        raise errors.RequestTimeout(f"the body was not received within {timeout_s} s")
    if short:
        expected = "its end" if length is None else f"the {length} its Content-Length announced"
        raise errors.IncompleteBody(f"the body broke off after {received} bytes, before {expected}")
    return b"".join(chunks)


def parse_report(body: bytes) -> Report:
    """Parse and validate the body in one pass."""
    try:
        return Report.model_validate_json(body)
    except ValidationError as exc:
        raise errors.InvalidReport(
            "the report does not match schema v1", errors.field_errors(exc)
        ) from exc


def _save(app: Flask, report: Report, verdict: validity.Validity) -> store.SaveResult:
    with ExitStack() as stack:

        def connection() -> Connection:  # only for a repeated id, to read its verdict
            return stack.enter_context(get_engine(app).connect())

        try:
            return store.save_report(get_writer(app), report, verdict, connection)
        except WriteTimeout as exc:
            raise errors.StorageBusy("the database is overloaded; retry with the same id") from exc
        except StorageFailure as exc:
            raise errors.StorageUnavailable(
                "the database failed to store the report; retry with the same id later"
            ) from exc
        except errors.STORAGE_ERRORS as exc:  # reading the verdict of a repeated id
            raise errors.storage_unavailable() from exc
