"""Security headers: one policy builder shared by the standalone collector and the web demo.

The standalone collector (``gunicorn 'device_bench.app:create_app()'``) sends on every
answer, its fast path included: a Content-Security-Policy that allows only its own
scripts, styles and images and no framing (``frame-ancestors 'none'``, plus
``X-Frame-Options: DENY`` for older browsers), ``X-Content-Type-Options: nosniff`` and
``Referrer-Policy: same-origin``. :class:`SecurityHeaders` adds them as WSGI middleware
rather than as a Flask ``after_request`` hook, which would make the fast path stand aside.

The web demo (which mounts the collector) builds its own, wider policy (WASM, camera) with
:func:`content_security_policy` and sends :data:`BASELINE_HEADERS` too. No Flask here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

# Sent by every app of the project, whatever its CSP.
BASELINE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)

# The collector's pages: its own script and stylesheet, SVG charts, JSON in a
# <script type="application/json"> block (data, never run), GET forms to itself.
COLLECTOR_POLICY: tuple[tuple[str, str], ...] = (
    ("default-src", "'none'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def script_hash(content: str) -> str:
    """CSP source expression allowing one inline script with exactly ``content``."""
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(
    directives: Iterable[tuple[str, str]], inline_scripts: Iterable[str] = ()
) -> str:
    """The policy string of ``directives`` (a value may hold ``{hashes}``: the hashes of
    ``inline_scripts``)."""
    hashes = " ".join(script_hash(s) for s in inline_scripts)
    return "; ".join(f"{name} {value.format(hashes=hashes)}".strip() for name, value in directives)


COLLECTOR_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", content_security_policy(COLLECTOR_POLICY)),
    *BASELINE_HEADERS,
)

StartResponse = Callable[..., Any]
KEY = "device_bench.security_headers"  # app.extensions: the headers the app's answers get


class SecurityHeaders:
    """WSGI middleware adding ``headers`` to every answer that does not set them itself.

    Args:
        app: The WSGI app to wrap.
        headers: (name, value) pairs, :data:`COLLECTOR_HEADERS` by default.
    """

    def __init__(
        self, app: Callable[..., Any], headers: Iterable[tuple[str, str]] = COLLECTOR_HEADERS
    ) -> None:
        self.app = app
        self.headers = tuple(headers)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        def with_headers(status: str, headers: list, exc_info: Any = None) -> Any:
            return start_response(status, add_missing(headers, self.headers), exc_info)

        return self.app(environ, with_headers)


def add_missing(
    headers: list[tuple[str, str]], extra: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``headers`` plus each of ``extra`` whose name is not there yet (case-insensitive)."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((n, v) for n, v in extra if n.lower() not in present)]
