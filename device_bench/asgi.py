"""Serve the collector from gunicorn's asyncio worker, so that slow clients hold no thread.

gunicorn's thread worker gives a request a thread once its first bytes arrive, and the
thread then blocks reading the rest: twenty clients that send their headers and part of
a body take twenty threads until they give up (or :data:`BODY_TIMEOUT_S
<device_bench.config.DEFAULTS>` ends each with a 408), and every other submission
waits. Here the event loop of gunicorn's ASGI worker (``-k asgi``) receives every
request, its body included, bounded in size (``MAX_REPORT_BYTES``) and in time
(``BODY_TIMEOUT_S``, then 408): a stalled client costs a socket and a timer. Only a
complete request goes to a thread pool (``ASGI_THREADS`` per worker), which runs the
unchanged WSGI app, fast path included::

    gunicorn -k asgi --workers 2 'device_bench.asgi:create_app()'
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from device_bench import errors, security_headers
from device_bench.app import create_app as create_wsgi_app
from device_bench.db import shutdown

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, list[tuple[str, str]], bytes]


class _Disconnected(Exception):
    """The client went away before its request was complete: nobody to answer."""


class BufferedWSGI:
    """An ASGI app running a WSGI app on complete requests only.

    Args:
        app: The collector (its config gives the size and time bounds and the threads).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_body = int(app.config["MAX_REPORT_BYTES"])
        self.body_timeout_s = float(app.config["BODY_TIMEOUT_S"])
        self.threads = int(app.config["ASGI_THREADS"])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here: returning closes the connection
        try:
            body = await self._read_body(receive)
        except _Disconnected:
            return
        except TimeoutError:
            status, headers, payload = errors.render_exception(
                errors.RequestTimeout(f"the body was not received within {self.body_timeout_s} s")
            )
            extra = self.app.extensions.get(security_headers.KEY, ())
            headers = security_headers.add_missing(headers, extra)
        else:
            environ = wsgi_environ(scope, body)
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._executor(), self._run, environ)
            status, headers, payload = answer
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": payload})

    async def _read_body(self, receive: Receive) -> bytes:
        """The body, cut after ``max_body + 1`` bytes (enough for the app to answer 413)."""
        chunks: list[bytes] = []
        size = 0
        async with asyncio.timeout(self.body_timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected
                chunk = message.get("body", b"")
                if size <= self.max_body:
                    chunks.append(chunk)
                    size += len(chunk)
                if not message.get("more_body", False) or size > self.max_body:
                    return b"".join(chunks)

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pool_pid != os.getpid():  # threads do not survive a fork
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="device-bench-wsgi")
            self._pool_pid = os.getpid()
        return self._pool

    def _run(self, environ: dict[str, Any]) -> Answer:
        """Call the WSGI app in a pool thread and collect its whole answer."""
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            started[:] = [int(status.split(" ", 1)[0]), list(headers)]
            return chunks.append

        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], b"".join(chunks)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Commit what is queued and close the database before the worker exits.
                await asyncio.get_running_loop().run_in_executor(None, shutdown, self.app)
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return


def wsgi_environ(scope: Mapping[str, Any], body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP request whose whole ``body`` has been read."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),  # PEP 3333: bytes as latin-1
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,  # the whole body is here: read to its end
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def create_app(test_config: Mapping[str, Any] | None = None) -> BufferedWSGI:
    """The standalone collector (:func:`device_bench.app.create_app`) as an ASGI app."""
    return BufferedWSGI(create_wsgi_app(test_config))
