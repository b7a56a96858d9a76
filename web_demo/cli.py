"""``sdk serve``: run the web demo and tell the person how to open it on a phone."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def lan_addresses() -> list[str]:
    """IPv4 addresses of this machine that a phone on the same network can reach."""
    found: set[str] = set()
    try:  # a UDP "connect" sends nothing: it only asks which source address routes outward
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    try:
        found |= {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None,
                                                            socket.AF_INET)}
    except OSError:
        pass
    usable = (ipaddress.ip_address(a) for a in found)
    return sorted(str(a) for a in usable if not (a.is_loopback or a.is_link_local))


def reachable_hosts(bind_host: str) -> list[str]:
    """Hosts a phone can use for a server bound to ``bind_host`` (none for loopback)."""
    if bind_host in ("0.0.0.0", "::", ""):
        return lan_addresses()
    return [] if bind_host in LOOPBACK_HOSTS else [bind_host]


def print_banner(scheme: str, port: int, lan_hosts: list[str],
                 fingerprint: str | None = None) -> None:
    """Print the local and LAN URLs, a QR code of the first LAN URL and, for HTTPS, the
    certificate's SHA-256 fingerprint beside it (what the phone's warning page shows)."""
    import segno

    click.echo(f"\n  Local:   {scheme}://localhost:{port}/")
    for host in lan_hosts:
        click.echo(f"  Network: {scheme}://{host}:{port}/")
    click.echo(f"  Test card:   {scheme}://localhost:{port}/testcard")
    click.echo(f"  Leaderboard: {scheme}://localhost:{port}/bench")
    if not lan_hosts:
        click.echo("\n  Not reachable from other devices: use --host 0.0.0.0 for a phone.")
        return
    url = f"{scheme}://{lan_hosts[0]}:{port}/"
    click.echo(f"\n  Scan with the phone to open {url}\n")
    qr = segno.make(url, error="m")
    lines = _qr_lines(qr)
    side = _fingerprint_lines(fingerprint) if fingerprint else []
    gap = max(0, (len(lines) - len(side)) // 2)
    side = [""] * gap + side
    width = max((len(line) for line in lines), default=0)
    for i, line in enumerate(lines):
        extra = side[i] if i < len(side) else ""
        click.echo(f"{line.ljust(width)}  {extra}".rstrip())
    if scheme == "http":
        click.echo("\n  Phones allow the camera only over HTTPS: serve on the LAN without\n"
                   "  --http (the upload and sample images work without it).")
    else:
        click.echo("\n  On the phone: scan the code, accept the self-signed certificate\n"
                   "  (Chrome: Advanced -> Proceed; Safari: Show Details -> visit this\n"
                   "  website; its fingerprint is the one above), then allow the camera.")


def _qr_lines(qr: Any) -> list[str]:
    """The QR code drawn with block characters, two modules per text line."""
    import io

    out = io.StringIO()
    qr.terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n").splitlines()


def _fingerprint_lines(fingerprint: str) -> list[str]:
    """The fingerprint in groups of 8 bytes, one group per line."""
    pairs = fingerprint.split(":")
    return ["Certificate SHA-256:"] + [":".join(pairs[i:i + 8]) for i in range(0, len(pairs), 8)]


def print_exports(config: Mapping[str, Any]) -> None:
    """Say which configured variants are exported, and what to run for the missing ones."""
    from web_demo.variants import discover, expected

    folder = config["EXPORTS_DIR"]
    found = {v.name for v in discover(folder)}
    missing: dict[str, list[str]] = {}
    for variant in expected(config["MODELS"], config["QUANTIZATIONS"]):
        if variant.name not in found:
            missing.setdefault(variant.model, []).append(variant.quantization)
    click.echo(f"\n  Exports: {folder} ({len(found)} TF.js variant(s))")
    if missing:
        click.echo("  Missing ones are not built here: run 'make demo', or")
    for model, quantizations in missing.items():
        click.echo(f"    sdk export --format tfjs --model {model} --quantize "
                   f"{','.join(quantizations)} --out {folder}")


def wants_https(bind_host: str, https: bool | None, cert: str | None) -> bool:
    """HTTPS unless asked otherwise: on by default for a host phones can reach (they allow
    the camera only on HTTPS), off for loopback (``localhost`` is a secure context)."""
    if cert:
        return True
    if https is not None:
        return https
    return bind_host not in LOOPBACK_HOSTS


def _certificate(instance: Path, use_https: bool, cert: str | None, key: str | None,
                 hosts: list[str]) -> tuple[str, str] | None:
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    if cert and key:
        return cert, key
    if not use_https:
        return None
    from web_demo.certs import ensure_self_signed

    cert_path, key_path = ensure_self_signed(instance, hosts)
    click.echo(f"  Using the self-signed certificate {cert_path}")
    return str(cert_path), str(key_path)


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Interface to listen on; 0.0.0.0 makes the demo reachable from phones.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--https/--http", "use_https", default=None,
              help="Serve HTTPS with a self-signed certificate (phones need it for the "
                   "camera), or plain HTTP  [default: HTTPS unless --host is loopback]")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False),
              help="PEM certificate to use instead of a self-signed one (implies --https).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False),
              help="PEM private key of --cert.")
@click.option("--exports", type=click.Path(file_okay=False),
              help="Folder of the TF.js exports 'sdk export --format tfjs' wrote (read only)  "
                   "[default: exports]")
def serve(host: str, port: int, use_https: bool | None, cert: str | None, key: str | None,
          exports: str | None) -> None:
    """Serve the web demo: live detection in the browser, on a phone, with benchmarks.

    It serves the TF.js exports made by 'sdk export --format tfjs' ('make demo' makes the
    bundled models' ones first) and builds none itself. The server is gunicorn's asyncio
    worker: TLS handshakes and slow phones never hold up the others.
    """
    from web_demo import server
    from web_demo.app import load_config
    from web_demo.certs import fingerprint

    overrides = {"EXPORTS_DIR": exports} if exports else {}
    config, instance = load_config(overrides)
    hosts = reachable_hosts(host)
    cert_dir = Path(config["CERT_DIR"] or instance)
    pair = _certificate(cert_dir, wants_https(host, use_https, cert), cert, key, hosts)
    print_exports(config)
    print_banner("https" if pair else "http", port, hosts,
                 fingerprint(pair[0]) if pair else None)
    click.echo("\n  Ctrl-C stops the server.\n")
    server.serve(server.ServeOptions(host, port, *(pair or (None, None)), config=overrides))
