"""``sdk serve`` over HTTPS with the real server (gunicorn's asyncio worker), on loopback.

What a room of phones needs: the self-signed certificate is served, its fingerprint is the
one printed beside the QR code, an idle or half-open connection does not hold up anyone
else, the demo's security headers survive, and the key is private from its first byte.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.web_demo.sdk_serve import Served, get, start_serve, stop
from web_demo import certs
from web_demo.cli import print_banner


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_serve(tmp_path_factory.mktemp("https"), "--https")
    yield served
    stop(served)


def test_serves_https_with_the_demo_headers_and_no_development_server(
        https_server: Served) -> None:
    status, headers, body = get(https_server.url + "/", timeout=10)
    assert status == 200 and b"<html" in body.lower()
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"  # wasm threads need both
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert "Content-Security-Policy" in headers
    assert "gunicorn" in headers["Server"]
    output = https_server.output()
    assert "development server" not in output.lower() and "werkzeug" not in output.lower()


def test_printed_fingerprint_is_the_served_certificate(https_server: Served) -> None:
    port = https_server.port
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    served = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    cert_file = https_server.cert_dir / certs.CERT_FILE
    assert certs.fingerprint(cert_file).replace(":", "") == served
    # On loopback there is no QR code: print the LAN banner as 'make demo' shows it.
    output = CliRunner().invoke(click.command()(lambda: print_banner(
        "https", port, ["192.168.1.23"], certs.fingerprint(cert_file)))).output
    printed = "".join(re.findall(r"((?:[0-9A-F]{2}:){7}[0-9A-F]{2})", output)).replace(":", "")
    assert printed == served
    qr_line = next(line for line in output.splitlines() if "SHA-256" in line)
    assert qr_line.lstrip().startswith(("█", "▀", "▄"))  # on the QR code's lines
    assert max(len(line) for line in output.splitlines()) <= 80


def test_an_idle_connection_does_not_stall_other_clients(https_server: Served) -> None:
    port = https_server.port
    idle = socket.create_connection(("127.0.0.1", port))  # connects, never says anything
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(b"\x16\x03\x01\x02\x00\x01")  # the first bytes of a TLS ClientHello, then stops
    try:
        time.sleep(0.5)  # let the server accept both
        for _ in range(5):
            started = time.monotonic()
            status, _, _ = get(https_server.url + "/api/models", timeout=5)
            assert status == 200
            assert time.monotonic() - started < 1.0
    finally:
        idle.close()
        half.close()


def test_localhost_stays_usable(tmp_path: Path) -> None:
    served = start_serve(tmp_path)  # loopback without --https: plain HTTP (a secure context)
    try:
        assert served.url.startswith("http://")
        assert get(served.url + "/", timeout=10)[0] == 200
        assert not (served.cert_dir / certs.KEY_FILE).exists()
    finally:
        stop(served)


def test_key_is_private_from_its_first_byte(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    modes: dict[str, int] = {}
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        modes[Path(dst).name] = os.stat(src).st_mode & 0o777  # before it has its name
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old_umask = os.umask(0)  # even a permissive umask gives a private key
    try:
        cert, key = certs.ensure_self_signed(tmp_path, ["192.168.1.23"])
    finally:
        os.umask(old_umask)
    assert modes == {certs.KEY_FILE: 0o600, certs.CERT_FILE: 0o644}
    assert key.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([cert.name, key.name])


@pytest.mark.parametrize("damage", ["garbage cert", "empty key", "other key", "no cert"])
def test_corrupt_certificate_files_are_regenerated(tmp_path: Path, damage: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert, key = certs.ensure_self_signed(tmp_path, [])
    before = cert.read_bytes()
    if damage == "garbage cert":
        cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
    elif damage == "empty key":
        key.write_bytes(b"")
    elif damage == "other key":
        other = ec.generate_private_key(ec.SECP256R1())
        key.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    else:
        cert.unlink()
    cert, key = certs.ensure_self_signed(tmp_path, [])
    assert cert.read_bytes() != before
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)  # the pair loads: key and certificate match
