"""Run the collector under gunicorn on 127.0.0.1 in a subprocess, and talk to it.

Used by the collector tests (crash durability, slow clients) and
``benchmarks/collector_load.py``; loopback only.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """The collector subprocess did not come up (its log tail is in the message)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class GunicornServer:
    """``gunicorn 'device_bench.app:create_app()'`` bound to 127.0.0.1.

    Attributes:
        database_url: Passed as ``DATABASE_URL``.
        workers: Worker processes; ``threads`` > 1 selects the gthread worker.
        env: Extra environment (e.g. ``DEVICE_BENCH_RATE_LIMIT_PER_MINUTE=0``).
        reuse_port: Give each worker its own listening socket (``SO_REUSEPORT``), so the
            kernel spreads new connections evenly over the workers; with one shared
            socket, a burst of connections can all land on one worker.
        asgi: Run gunicorn's asyncio worker with :mod:`device_bench.asgi` (slow clients
            hold no thread; ``threads`` is then unused: ``DEVICE_BENCH_ASGI_THREADS``).
    """

    database_url: str
    workers: int = 2
    threads: int = 1
    env: dict[str, str] = field(default_factory=dict)
    reuse_port: bool = False
    asgi: bool = False
    log_path: str = os.devnull
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The gunicorn command line."""
        worker = ["-k", "asgi"] if self.asgi else ["--threads", str(self.threads)]
        return [
            sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers), *worker,
            "--backlog", "2048", "--log-level", "warning",
            *(["--reuse-port"] if self.reuse_port else []),
            f"device_bench.{'asgi' if self.asgi else 'app'}:create_app()",
        ]  # fmt: skip

    def start(self, timeout_s: float = 30.0) -> GunicornServer:
        """Start the server and wait until it answers; raise ServerError otherwise."""
        # The server must import this very package, installed or not.
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "DATABASE_URL": self.database_url, **self.env}
        with open(self.log_path, "ab") as log:
            # A new session makes the master and its workers one process group to signal.
            self.process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited with {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.kill()
        raise ServerError(f"gunicorn did not answer within {timeout_s} s")

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=1)
            conn.request("GET", "/api/v1/live")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (a crash, no clean shutdown)."""
        self._signal_group(signal.SIGKILL)

    def stop(self) -> None:
        """Shut down gracefully (SIGTERM), killing after 10 s."""
        self._signal_group(signal.SIGTERM)

    def _signal_group(self, sig: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CollectorClient:
    """A keep-alive HTTP connection to the collector (reconnects when the server closes)."""

    def __init__(self, port: int, timeout_s: float = 10.0) -> None:
        self.port = port
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request; return (status, body).

        Raises:
            OSError: The server is gone or closed the connection mid-request.
        """
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout_s)
        try:
            self._conn.request(method, path, body, headers)
            resp = self._conn.getresponse()
            data = resp.read()
        except OSError:
            self.close()
            raise
        except http.client.HTTPException as exc:  # e.g. a truncated status line
            self.close()
            raise ConnectionError(str(exc)) from exc
        if resp.will_close:
            self.close()
        return resp.status, data

    def post_report(self, report: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST one report; return (status, JSON body)."""
        status, data = self.request("POST", "/api/v1/reports", json.dumps(report).encode())
        return status, json.loads(data or b"{}")

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
