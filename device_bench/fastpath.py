"""A lean WSGI path for the collector's hot request: a new, well-formed report.

``POST /api/v1/reports`` is what devices send, in bursts; on a small server Flask's
per-request machinery (request and app contexts, URL matching, the response object and
its header fix-ups) cost more CPU than validating and storing the report: in process,
about 870,000 interpreter instructions per submission through the route against 320,000
here. :class:`SubmitFastPath` wraps the standalone app's ``wsgi_app`` and answers only
the plain success case itself, with the code the route runs
(:class:`~device_bench.schema.Report`, :func:`~device_bench.validity.check`,
:func:`~device_bench.store.save_report`, :func:`~device_bench.api.submit_body`) and the
same 201 response.

Everything else goes to Flask untouched and is answered there exactly as before:
another path or method, a content type other than ``application/json``, no or too
large ``Content-Length``, a missing token, a rate-limit refusal, malformed JSON or a
schema error, an id already stored (200 with the stored verdict), a storage error.
The fast path never answers an error itself; for a request it has started to read it
hands Flask the body it read (and the rate-limit token it took). It stands aside for
good when the app has request hooks (``before_request``/``after_request``/
``teardown_request``), which it would skip. Only the standalone app installs it
(:func:`~device_bench.app.create_app`, unless ``SUBMIT_FAST_PATH`` is false); the web
demo mounts the collector with hooks of its own and keeps the Flask route.
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from pydantic import ValidationError

from device_bench import store, validity
from device_bench.api import RATE_CHECKED_KEY, RATE_LIMITER_KEY, REPORTS_PATH, submit_body
from device_bench.db import get_writer
from device_bench.ratelimit import TokenBucket
from device_bench.schema import Report

StartResponse = Callable[..., Any]


class _ToFlask(Exception):
    """This submission is not the plain success case: let Flask answer it."""


def _existing(*_: Any) -> Any:
    raise _ToFlask  # a stored id: Flask reads the stored verdict and answers 200


class SubmitFastPath:
    """WSGI middleware answering new, well-formed report submissions without Flask.

    Args:
        app: The collector app; its ``wsgi_app`` handles everything not answered here.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.next = app.wsgi_app
        self._enabled: bool | None = None  # decided at the first request (hooks are set up)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != REPORTS_PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("CONTENT_TYPE") != "application/json"
            or not self._is_enabled()
        ):
            return self.next(environ, start_response)
        body = self._read(environ)
        if body is None:
            return self.next(environ, start_response)
        try:
            response = self._submit(environ, body)
        except _ToFlask:
            environ["wsgi.input"] = io.BytesIO(body)  # Flask reads the body again
            environ["CONTENT_LENGTH"] = str(len(body))
            return self.next(environ, start_response)
        start_response("201 CREATED", response[1])
        return [response[0]]

    def _is_enabled(self) -> bool:
        if self._enabled is None:
            app = self.app
            hooks = (
                app.before_request_funcs,
                app.after_request_funcs,
                app.teardown_request_funcs,
                app.url_value_preprocessors,
            )
            self._enabled = not any(funcs for registry in hooks for funcs in registry.values())
        return self._enabled

    def _read(self, environ: dict[str, Any]) -> bytes | None:
        """The body, when the request may be answered here; None leaves it unread."""
        config = self.app.config
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None  # chunked or malformed: Flask bounds the read itself
        if not 0 <= length <= int(config["MAX_REPORT_BYTES"]):
            return None
        token = config.get("SUBMIT_TOKEN")
        if token:
            sent = environ.get("HTTP_AUTHORIZATION", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return None
        bucket: TokenBucket | None = self.app.extensions.get(RATE_LIMITER_KEY)
        if bucket is not None:
            if bucket.acquire(environ.get("REMOTE_ADDR") or "unknown") > 0:
                return None  # refused (no token taken): Flask asks again and answers 429
            environ[RATE_CHECKED_KEY] = True  # taken: Flask must not take a second one
        return environ["wsgi.input"].read(length)

    def _submit(self, environ: dict[str, Any], body: bytes) -> tuple[bytes, list[tuple[str, str]]]:
        try:
            report = Report.model_validate_json(body)
        except ValidationError:
            raise _ToFlask from None  # Flask answers 400 with the field errors
        config = self.app.config
        verdict = validity.check(report, config["KNOWN_MODEL_HASHES"])
        try:
            saved = store.save_report(get_writer(self.app), report, verdict, _existing)
        except _ToFlask:
            raise
        except Exception as exc:  # storage trouble (e.g. WriteTimeout): Flask answers and logs
            raise _ToFlask from exc
        data = submit_body(saved)
        location = f"{environ.get('SCRIPT_NAME', '').rstrip('/')}{REPORTS_PATH}/{saved.id}"
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Location", location),
        ]
        return data, headers


def install(app: Flask) -> None:
    """Put the fast path in front of ``app`` (the standalone collector)."""
    app.wsgi_app = SubmitFastPath(app)  # type: ignore[method-assign]

