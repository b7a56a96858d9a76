"""The self-signed certificate ``sdk serve`` uses on a LAN (phones allow the camera on HTTPS only).

Generated once into the instance folder and generated again when it expires, does not
name the current LAN addresses (the certificate names them, so the phone's warning is the
only obstacle, not a name mismatch), or the files are unreadable, corrupt or do not belong
together. Each file is written to a temporary sibling and renamed into place; the key's
temporary file is created with mode 0600, so the key is never readable by others, not even
for a moment.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tempfile
from pathlib import Path

CERT_FILE = "demo-cert.pem"
KEY_FILE = "demo-key.pem"
VALID_DAYS = 365
KEY_MODE = 0o600
CERT_MODE = 0o644


def _usable(cert_path: Path, key_path: Path, hosts: list[str]) -> bool:
    """True when both files parse, belong together, the certificate is valid for another
    week and it names every host."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    pem = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*pem) != cert.public_key().public_bytes(*pem):
        return False
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=7):
        return False
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


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically; the file has ``mode`` from its creation on."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        if mode != KEY_MODE:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    # Key first: a crash between the two renames leaves a pair that does not match, which
    # the next start regenerates.
    _write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), KEY_MODE)
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)


def ensure_self_signed(folder: str | Path, hosts: list[str]) -> tuple[Path, Path]:
    """Return ``(cert, key)`` in ``folder``, creating them when missing, stale, too narrow
    or corrupt."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    wanted = sorted({"localhost", "127.0.0.1", *hosts})
    if not _usable(cert_path, key_path, wanted):
        _write_pair(cert_path, key_path, wanted)
    return cert_path, key_path


def fingerprint(cert_path: str | Path) -> str:
    """SHA-256 fingerprint of a PEM certificate as browsers show it (``AB:CD:...``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
