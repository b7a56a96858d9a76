"""Serve the demo with gunicorn's asyncio worker, over TLS when asked: what ``sdk serve`` runs.

A development server does the TLS handshake of each connection on a thread it owns, so a
phone that connects and never finishes the handshake stalls the others. Here gunicorn's
ASGI worker (``-k asgi``) runs the handshakes and reads every request, body included, in
its event loop; only complete requests reach a thread (:class:`device_bench.asgi.
BufferedWSGI`, the collector's deployment for many devices), so an idle or slow client
costs a socket and a timer, never a thread. The same, without ``sdk serve``::

    gunicorn -k asgi --workers 1 --bind 0.0.0.0:8000 \\
        --certfile instance/demo-cert.pem --keyfile instance/demo-key.pem \\
        'web_demo.server:create_asgi_app()'

The app is created in the worker (never in the arbiter before the fork: the collector's
database connection and writer thread must not cross a fork).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WORKERS = 1  # one event loop serves a room of phones; its threads run the Flask app
TIMEOUT_S = 60  # a request (a large model shard to a slow phone) may take this long
KEEPALIVE_S = 5  # idle keep-alive connections are closed after this
GRACEFUL_TIMEOUT_S = 5  # Ctrl-C: in-flight requests get this long to finish


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve.

    Attributes:
        host: Interface to bind (``0.0.0.0``, ``::``, ``127.0.0.1``...).
        port: TCP port.
        certfile: PEM certificate; with ``keyfile``, HTTPS (None: plain HTTP).
        keyfile: PEM private key of ``certfile``.
        config: Overrides of the demo app's configuration (applied after the environment).
        workers: gunicorn worker processes.
    """

    host: str
    port: int
    certfile: str | None = None
    keyfile: str | None = None
    config: Mapping[str, Any] | None = None
    workers: int = WORKERS

    @property
    def bind(self) -> str:
        """gunicorn's ``--bind`` value (IPv6 addresses in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def gunicorn_settings(self) -> dict[str, Any]:
        """The gunicorn settings (names as in gunicorn's configuration file)."""
        settings: dict[str, Any] = {
            "bind": [self.bind], "workers": self.workers, "worker_class": "asgi",
            "timeout": TIMEOUT_S, "keepalive": KEEPALIVE_S,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "loglevel": "warning",  # the banner says where to go; errors still show
            "proc_name": "sdk-serve",
        }
        if self.certfile and self.keyfile:
            settings |= {"certfile": self.certfile, "keyfile": self.keyfile}
        return settings


def create_asgi_app(config: Mapping[str, Any] | None = None) -> Any:
    """The demo app (configured from the environment, then ``config``) as an ASGI app."""
    from device_bench.asgi import BufferedWSGI
    from web_demo.app import create_app

    return BufferedWSGI(create_app(config, from_env=True))


def serve(options: ServeOptions) -> None:
    """Run gunicorn in this process until it is stopped (Ctrl-C, SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    class _Demo(BaseApplication):
        def load_config(self) -> None:
            for name, value in options.gunicorn_settings().items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return create_asgi_app(options.config)

    _Demo().run()
