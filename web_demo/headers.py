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

import base64
import hashlib
from collections.abc import Iterable

from flask import Flask, Response, current_app

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


def script_hash(content: str) -> str:
    """CSP source expression allowing one inline script with exactly ``content``."""
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(inline_scripts: Iterable[str] = ()) -> str:
    """The policy string, allowing the given inline scripts by hash."""
    hashes = " ".join(script_hash(s) for s in inline_scripts)
    return "; ".join(f"{name} {value.format(hashes=hashes)}".strip() for name, value in _POLICY)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Embedder-Policy", "require-corp")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", current_app.extensions[CSP_KEY])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    # The page asks for the camera itself; nothing embedded may.
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=()")
    return response


def init_app(app: Flask, inline_scripts: Iterable[str] = ()) -> None:
    """Send the headers on every response of ``app`` (including the mounted collector)."""
    app.extensions[CSP_KEY] = content_security_policy(inline_scripts)
    app.after_request(_add_headers)
