"""Security headers on every response: cross-origin isolation and a Content-Security-Policy.

* COOP ``same-origin`` + COEP ``require-corp`` make the page cross-origin isolated, which is
  what gives the WASM backend ``SharedArrayBuffer`` and therefore threads. Every resource
  is same-origin, so CORP ``same-origin`` on each response satisfies COEP.
* The CSP allows only same-origin scripts plus ``'wasm-unsafe-eval'`` (compiling the WASM
  backend). The threaded WASM backend starts its workers from ``blob:`` URLs and they
  ``importScripts`` another ``blob:``, so ``blob:`` is allowed for workers and scripts (a
  blob URL can only be minted by a script that already runs here). The page's import map
  is the one inline script; it is allowed by its hash. No ``'unsafe-inline'``/``'unsafe-eval'``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app

from device_bench import security_headers
from device_bench.security_headers import script_hash

__all__ = ["CSP_KEY", "content_security_policy", "init_app", "script_hash"]

CSP_KEY = "web_demo.csp"

_POLICY: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'wasm-unsafe-eval' blob: {hashes}"),
    ("worker-src", "'self' blob:"),
    ("style-src", "'self'"),
    ("img-src", "'self' blob: data:"),
    ("media-src", "'self' blob: mediastream:"),
    ("connect-src", "'self' blob: data:"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def content_security_policy(inline_scripts: Iterable[str] = ()) -> str:
    """The policy string, allowing the given inline scripts by hash."""
    return security_headers.content_security_policy(_POLICY, inline_scripts)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Embedder-Policy", "require-corp")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", current_app.extensions[CSP_KEY])
    for name, value in security_headers.BASELINE_HEADERS:  # nosniff, referrer, framing
        headers.setdefault(name, value)
    # The page asks for the camera itself; nothing embedded may.
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=()")
    return response


def init_app(app: Flask, inline_scripts: Iterable[str] = ()) -> None:
    """Send the headers on every response of ``app`` (including the mounted collector)."""
    app.extensions[CSP_KEY] = content_security_policy(inline_scripts)
    app.after_request(_add_headers)
