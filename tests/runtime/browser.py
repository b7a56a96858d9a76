"""Real-browser test support: a tiny static server and Debian's headless Chromium.

Reusable by any test that drives the browser runtime (``sdk/js``)::

    from tests.runtime.browser import StaticServer, chromium, module_page, runtime_routes

    pages = {"/index.html": module_page('import { load } from "@sdk/detector.js"; ...')}
    with StaticServer({**runtime_routes(), "/models/m/": folder}, pages) as server, \\
            chromium() as browser:
        page = browser.new_page()
        errors = watch_console(page)
        page.goto(server.url("/index.html"))

The server sends COOP ``same-origin`` + COEP ``require-corp`` (cross-origin isolation, so
the wasm backend may use threads) and ``application/wasm`` for ``.wasm``. Chromium is
``/usr/bin/chromium`` driven by Playwright; Playwright's own browser download does not work
here (docs/DESIGN.md section 4).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK_JS = REPO / "sdk" / "js"
NODE_MODULES = REPO / "node_modules"
TFJS_PACKAGES = NODE_MODULES / "@tensorflow"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync")
ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                     "Cross-Origin-Embedder-Policy": "require-corp"}
_NOWHERE = "/nonexistent/404"  # translate_path result for anything not routed
MIME_TYPES = {".wasm": "application/wasm", ".js": "text/javascript",
              ".mjs": "text/javascript", ".json": "application/json"}


def runtime_routes(sdk: str = "/sdk/", vendor: str = "/vendor/") -> dict[str, Path]:
    """URL prefix -> folder for the browser runtime and the engine files it imports."""
    return {sdk: SDK_JS,
            f"{vendor}tfjs/": TFJS_PACKAGES / "tfjs" / "dist",
            f"{vendor}tfjs-backend-wasm/": TFJS_PACKAGES / "tfjs-backend-wasm" / "dist",
            f"{vendor}tfjs-backend-webgpu/": TFJS_PACKAGES / "tfjs-backend-webgpu" / "dist",
            f"{vendor}litertjs-core/": NODE_MODULES / "@litertjs" / "core",
            f"{vendor}litertjs-wasm-utils/": NODE_MODULES / "@litertjs" / "wasm-utils" / "dist",
            f"{vendor}onnxruntime-web/": NODE_MODULES / "onnxruntime-web" / "dist"}


def import_map(sdk: str = "/sdk/", vendor: str = "/vendor/") -> dict[str, Any]:
    """The import map a page using ``sdk/js`` must declare (see README 'Browser runtime').

    One tfjs bundle serves both ``@tensorflow/tfjs`` and ``@tensorflow/tfjs-core`` so the
    wasm/webgpu backends register with the same engine; the Node built-ins the wasm ES
    module imports (unused in browsers) map to an empty module. LiteRT.js and
    onnxruntime-web are served from their packages (LiteRT.js finds its ``wasm/`` folder
    beside ``dist/``).
    """
    tfjs = f"{vendor}tfjs/tf.fesm.min.js"
    shim = f"{sdk}node-shim.js"
    return {"imports": {
        "@tensorflow/tfjs": tfjs,
        "@tensorflow/tfjs-core": tfjs,
        "@tensorflow/tfjs-backend-wasm": f"{vendor}tfjs-backend-wasm/tf-backend-wasm.fesm.min.js",
        "@tensorflow/tfjs-backend-webgpu":
            f"{vendor}tfjs-backend-webgpu/tf-backend-webgpu.fesm.min.js",
        "@litertjs/core": f"{vendor}litertjs-core/dist/index.js",
        "@litertjs/wasm-utils": f"{vendor}litertjs-wasm-utils/index.js",
        "onnxruntime-web/wasm": f"{vendor}onnxruntime-web/ort.wasm.min.mjs",
        "onnxruntime-web/webgpu": f"{vendor}onnxruntime-web/ort.webgpu.min.mjs",
        "@sdk/": sdk,
        **{name: shim for name in ("fs", "path", "os", "perf_hooks", "worker_threads")},
    }}


def module_page(script: str, imports: Mapping[str, Any] | None = None) -> str:
    """An HTML page declaring the import map and running ``script`` as a module."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        f"<script type='importmap'>{json.dumps(imports or import_map())}</script></head>"
        f"<body><script type='module'>{script}</script></body></html>")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's routes and pages with isolation headers; quiet."""

    routes: dict[str, Path] = {}
    pages: dict[str, str] = {}
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        page = self.pages.get(self.path.split("?")[0])
        if page is None:
            super().do_GET()
            return
        body = page.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def translate_path(self, path: str) -> str:
        path = path.split("?")[0].split("#")[0]
        for prefix in sorted(self.routes, key=len, reverse=True):
            if path.startswith(prefix):
                root = self.routes[prefix].resolve()
                target = (root / path[len(prefix):]).resolve()
                # Refuse ../ escapes out of the routed folder.
                return str(target) if target.is_relative_to(root) else _NOWHERE
        return _NOWHERE

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


class StaticServer:
    """A threaded HTTP server on 127.0.0.1 (free port) serving folders and in-memory pages.

    Args:
        routes: URL prefix (ending in "/") -> folder served under it.
        pages: URL path -> HTML text (e.g. from :func:`module_page`).
    """

    def __init__(self, routes: Mapping[str, Path], pages: Mapping[str, str] | None = None):
        handler = type("Handler", (_Handler,), {"routes": dict(routes),
                                                "pages": dict(pages or {})})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        """Absolute URL of ``path`` on this server."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextmanager
def chromium(extra_args: tuple[str, ...] = ()) -> Iterator[Any]:
    """A headless Debian Chromium launched by Playwright (sync API); closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def browser_marks() -> list[pytest.MarkDecorator]:
    """``pytestmark`` of a browser test module: browser, slow, skipped without Chromium."""
    reason = browser_available()
    return [pytest.mark.browser, pytest.mark.slow,
            pytest.mark.skipif(reason is not None, reason=reason or "")]


def browser_available() -> str | None:
    """Why browser tests cannot run here (a skip reason), or None when they can."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} missing (bash .ci/install-system.sh installs it)"
    if not (TFJS_PACKAGES / "tfjs" / "dist").is_dir():
        return "node_modules/@tensorflow missing (npm install)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed (dev extra)"
    return None


def watch_console(page: Any) -> list[str]:
    """Collect console errors and uncaught page errors of ``page`` into the returned list."""
    errors: list[str] = []
    page.on("console", functools.partial(_on_console, errors))
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def _on_console(errors: list[str], message: Any) -> None:
    if message.type == "error":
        errors.append(f"console.error: {message.text}")
