"""``sdk serve``: URLs, QR code, HTTPS certificates; and the app under gunicorn."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sdk.cli import main
from web_demo import certs, cli, server

LAN_IP = "192.168.1.23"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Run ``sdk serve`` without serving: capture what would be passed to the server."""
    captured: dict[str, Any] = {}

    def capture(options: server.ServeOptions) -> None:
        captured.update(host=options.host, port=options.port, options=options,
                        ssl_context=(options.certfile, options.keyfile)
                        if options.certfile else None)

    monkeypatch.setattr(server, "serve", capture)
    monkeypatch.setattr(cli, "lan_addresses", lambda: [LAN_IP])
    real = certs.ensure_self_signed
    monkeypatch.setattr(certs, "ensure_self_signed", lambda _folder, hosts: real(tmp_path, hosts))
    monkeypatch.setenv("DEVICE_BENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'bench.sqlite'}")
    captured["exports"] = str(tmp_path / "exports")
    return captured


def _serve(served: dict[str, Any], *args: str) -> Any:
    return CliRunner().invoke(main, ["serve", "--exports", served["exports"], *args])


def test_serve_is_listed_in_sdk_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "serve" in result.output


def test_http_prints_local_and_lan_urls_and_a_qr_code(served: dict[str, Any]) -> None:
    result = _serve(served, "--port", "8123", "--http")
    assert result.exit_code == 0, result.output
    assert "Local:   http://localhost:8123/" in result.output
    assert f"Network: http://{LAN_IP}:8123/" in result.output
    assert any(ch in result.output for ch in "█▀▄")  # the QR code, drawn in the terminal
    assert "camera only over HTTPS" in result.output  # phones need it for the camera
    assert served["host"] == "0.0.0.0" and served["port"] == 8123
    assert served["ssl_context"] is None
    assert served["options"].config["EXPORTS_DIR"] == served["exports"]


def test_missing_exports_are_named_with_the_command_that_makes_them(
        served: dict[str, Any]) -> None:
    from tests.web_demo.fake_exports import write_fake_export

    write_fake_export(Path(served["exports"]) / "fast-tfjs-fp32")
    result = _serve(served)
    assert result.exit_code == 0, result.output
    assert f"Exports: {served['exports']} (1 TF.js variant(s))" in result.output
    assert "make demo" in result.output
    out = served["exports"]
    assert f"sdk export --format tfjs --model fast --quantize fp16,uint8 --out {out}" \
        in result.output
    assert f"sdk export --format tfjs --model accurate --quantize fp32,fp16,uint8 --out {out}" \
        in result.output


def test_loopback_host_has_no_lan_url(served: dict[str, Any]) -> None:
    result = _serve(served, "--host", "127.0.0.1")
    assert result.exit_code == 0
    assert "Network:" not in result.output and "--host 0.0.0.0" in result.output


def test_https_generates_a_certificate_naming_the_lan_address(served: dict[str, Any],
                                                              tmp_path: Path) -> None:
    from cryptography import x509

    result = _serve(served)  # HTTPS is the default on a LAN interface
    assert result.exit_code == 0, result.output
    assert f"Network: https://{LAN_IP}:8000/" in result.output
    assert "Advanced" in result.output  # how to accept the certificate on a phone
    cert_path, key_path = served["ssl_context"]
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} >= {LAN_IP, "127.0.0.1"}
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert oct(Path(key_path).stat().st_mode & 0o777) == "0o600"


def test_certificate_is_reused_until_the_hosts_change(tmp_path: Path) -> None:
    cert, _ = certs.ensure_self_signed(tmp_path, [LAN_IP])
    first = cert.read_bytes()
    assert certs.ensure_self_signed(tmp_path, [LAN_IP])[0].read_bytes() == first
    assert certs.ensure_self_signed(tmp_path, ["10.0.0.7"])[0].read_bytes() != first


def test_given_cert_and_key_are_used(served: dict[str, Any], tmp_path: Path) -> None:
    cert, key = certs.ensure_self_signed(tmp_path / "mine", [])
    result = _serve(served, "--cert", str(cert), "--key", str(key))
    assert result.exit_code == 0, result.output
    assert served["ssl_context"] == (str(cert), str(key))
    assert "https://localhost:8000/" in result.output


def test_cert_without_key_is_a_usage_error(served: dict[str, Any], tmp_path: Path) -> None:
    cert, _ = certs.ensure_self_signed(tmp_path / "mine", [])
    result = _serve(served, "--cert", str(cert))
    assert result.exit_code == 2 and "--cert and --key go together" in result.output


def test_reachable_hosts() -> None:
    assert cli.reachable_hosts("127.0.0.1") == []
    assert cli.reachable_hosts("192.168.7.7") == ["192.168.7.7"]
    assert all(not h.startswith("127.") for h in cli.reachable_hosts("0.0.0.0"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_runs_under_gunicorn(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "WEB_DEMO_EXPORTS_DIR": str(tmp_path / "exports"),
           "DEVICE_BENCH_DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite'}"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "web_demo.app:create_app()"], env=env, cwd=Path(__file__).parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models") as response:
                    assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
                    assert b"fast-tfjs-fp32" in response.read()
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
