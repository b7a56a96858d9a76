"""``sdk serve`` as a person starts it, in a subprocess, for tests over real HTTP(S).

Everything goes to loopback; the certificate lives in a test folder (``WEB_DEMO_CERT_DIR``)
and the collector's database in another.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SDK = Path(sys.executable).with_name("sdk")
START_TIMEOUT_S = 120  # the first start on a loaded 2-core machine imports a lot


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def insecure_context() -> ssl.SSLContext:
    """What a phone does after 'Proceed': accept the self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get(url: str, timeout: float) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive, as HTTP's) and body of a GET."""
    with urllib.request.urlopen(url, timeout=timeout, context=insecure_context()) as response:
        return response.status, response.headers, response.read()


@dataclass
class Served:
    """A running ``sdk serve`` process: its base URL, output so far and certificate folder."""

    url: str
    proc: subprocess.Popen
    cert_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_serve(tmp_path: Path, *args: str, exports: Path | None = None,
                command: list[str] | None = None) -> Served:
    """Start ``sdk serve --host 127.0.0.1 --port P --exports E ARGS`` and wait for its first
    answer; ``command`` replaces ``sdk serve`` (e.g. the Makefile's serve line, whose
    --host, --port and --exports are replaced)."""
    port = free_port()
    cert_dir = tmp_path / "certs"
    log = tmp_path / "serve.log"
    env = {**os.environ, "WEB_DEMO_CERT_DIR": str(cert_dir),
           "DEVICE_BENCH_DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite'}"}
    exports = exports or tmp_path / "exports"
    argv = list(command or [str(SDK), "serve"])
    for name, value in (("--host", "127.0.0.1"), ("--port", str(port)),
                        ("--exports", str(exports))):
        if name in argv:
            argv[argv.index(name) + 1] = value
        else:
            argv += [name, value]
    with open(log, "wb") as out:
        proc = subprocess.Popen([*argv, *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    scheme = "https" if "--https" in args else "http"
    served = Served(f"{scheme}://127.0.0.1:{port}", proc, cert_dir, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            get(served.url + "/api/models", timeout=5)
            return served
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(f"sdk serve exited: {served.output()}") from None
            if time.monotonic() > deadline:
                stop(served)
                raise AssertionError(f"sdk serve did not answer: {served.output()}") from None
            time.sleep(0.3)


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait(timeout=10)
