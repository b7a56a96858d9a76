"""A lean WSGI path for the collector's hot request: ``POST /api/v1/reports``.

Devices send reports in bursts; on a small server Flask's per-request machinery (request
and app contexts, URL matching, the response object and its header fix-ups) cost more CPU
than validating and storing the report: in process, about 870,000 interpreter
instructions per submission through the route against 320,000 here.
:class:`SubmitFastPath` wraps the standalone app's ``wsgi_app`` and answers submissions
itself with :func:`device_bench.submit.submit`, the function the Flask route calls, and
renders refusals with :func:`device_bench.errors.render_exception`, as the route's error
handlers do: both paths give the same answers.

Every other request goes to Flask. The fast path stands aside for good when the app has
request hooks (``before_request``/``after_request``/``teardown_request``), which it would
skip. Only the standalone app installs it (:func:`~device_bench.app.create_app`, unless
``SUBMIT_FAST_PATH`` is false); the web demo mounts the collector with hooks of its own
and keeps the Flask route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from device_bench import errors, security_headers
from device_bench.api import REPORTS_PATH
from device_bench.submit import submit

StartResponse = Callable[..., Any]


class SubmitFastPath:
    """WSGI middleware answering report submissions without Flask.

    Args:
        app: The collector app; its ``wsgi_app`` handles everything else.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.next = app.wsgi_app
        # What the app's other answers get from device_bench.security_headers.
        self.extra_headers = tuple(app.extensions.get(security_headers.KEY, ()))
        self._enabled: bool | None = None  # decided at the first request (hooks are set up)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != REPORTS_PATH
            or environ.get("REQUEST_METHOD") != "POST"
            or not self._is_enabled()
        ):
            return self.next(environ, start_response)
        status, headers, body = self._answer(environ)
        if self.extra_headers:
            headers = security_headers.add_missing(headers, self.extra_headers)
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[int, errors.Headers, bytes]:
        try:
            accepted = submit(self.app, environ)
        except (errors.ApiError, HTTPException) as exc:
            return errors.render_exception(exc)
        except Exception:
            if self._propagate():
                raise
            # What Flask logs and answers for an exception in the route.
            self.app.logger.exception("Exception on %s [POST]", REPORTS_PATH)
            return errors.render_exception(InternalServerError())
        return accepted.status, accepted.headers(), accepted.body

    def _propagate(self) -> bool:
        propagate = self.app.config.get("PROPAGATE_EXCEPTIONS")
        return self.app.testing or self.app.debug if propagate is None else bool(propagate)

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


def install(app: Flask) -> None:
    """Put the fast path in front of ``app`` (the standalone collector)."""
    app.wsgi_app = SubmitFastPath(app)  # type: ignore[method-assign]
