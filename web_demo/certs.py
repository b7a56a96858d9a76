"""A self-signed certificate for ``sdk serve --https`` (phones allow the camera on HTTPS only).

Generated once into the instance folder and re-generated when it expires or does not cover
the current LAN addresses (the certificate names them, so the phone's warning is the only
obstacle, not a name mismatch).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

CERT_FILE = "demo-cert.pem"
KEY_FILE = "demo-key.pem"
VALID_DAYS = 365


def _covers(cert_path: Path, hosts: list[str]) -> bool:
    """True when the certificate is still valid for a week and names every host."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=7):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    names |= set(san.get_values_for_type(x509.DNSName))
    return set(hosts) <= names


def _subject_names(hosts: list[str]) -> list:
    from cryptography import x509

    names: list = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _write_pair(cert_path: Path, key_path: Path, hosts: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sdk serve (self-signed)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_subject_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_self_signed(folder: str | Path, hosts: list[str]) -> tuple[Path, Path]:
    """Return ``(cert, key)`` in ``folder``, creating them when missing, stale or too narrow."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    wanted = sorted({"localhost", "127.0.0.1", *hosts})
    if not (cert_path.is_file() and key_path.is_file() and _covers(cert_path, wanted)):
        _write_pair(cert_path, key_path, wanted)
    return cert_path, key_path
