"""``sdk serve``: run the web demo and tell the person how to open it on a phone."""

from __future__ import annotations

import ipaddress
import socket
import sys
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


def print_banner(scheme: str, port: int, lan_hosts: list[str]) -> None:
    """Print the local and LAN URLs and a QR code of the first LAN URL."""
    import segno

    click.echo(f"\n  Local:   {scheme}://localhost:{port}/")
    for host in lan_hosts:
        click.echo(f"  Network: {scheme}://{host}:{port}/")
    click.echo(f"  Test card: {scheme}://localhost:{port}/testcard   "
               f"Leaderboard: {scheme}://localhost:{port}/bench")
    if not lan_hosts:
        click.echo("\n  Not reachable from other devices: use --host 0.0.0.0 for a phone.")
        return
    url = f"{scheme}://{lan_hosts[0]}:{port}/"
    click.echo(f"\n  Scan with the phone to open {url}\n")
    segno.make(url, error="m").terminal(out=sys.stdout, compact=True)
    if scheme == "http":
        click.echo("\n  Phones allow the camera only over HTTPS: restart with --https "
                   "(the upload and sample images work without it).")
    else:
        click.echo("\n  Self-signed certificate: on the phone tap Advanced -> Proceed "
                   "(Chrome) or Show Details -> visit this website (Safari).")


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


def _ssl_context(app_instance: Path, use_https: bool, cert: str | None, key: str | None,
                 hosts: list[str]) -> tuple[str, str] | None:
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together")
    if cert and key:
        return cert, key
    if not use_https:
        return None
    from web_demo.certs import ensure_self_signed

    cert_path, key_path = ensure_self_signed(app_instance, hosts)
    click.echo(f"  Using the self-signed certificate {cert_path}")
    return str(cert_path), str(key_path)


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Interface to listen on; 0.0.0.0 makes the demo reachable from phones.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--https", "use_https", is_flag=True,
              help="Serve HTTPS with a self-signed certificate (phones need it for the camera).")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False),
              help="PEM certificate to use instead of a self-signed one (implies --https).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False),
              help="PEM private key of --cert.")
@click.option("--exports", type=click.Path(file_okay=False),
              help="Folder of the TF.js exports 'sdk export --format tfjs' wrote (read only)  "
                   "[default: exports]")
def serve(host: str, port: int, use_https: bool, cert: str | None, key: str | None,
          exports: str | None) -> None:
    """Serve the web demo: live detection in the browser, on a phone, with benchmarks.

    It serves the TF.js exports made by 'sdk export --format tfjs' ('make demo' makes the
    bundled models' ones first) and builds none itself.
    """
    from werkzeug.serving import run_simple

    from web_demo.app import create_app

    app = create_app({"EXPORTS_DIR": exports} if exports else {}, from_env=True)
    hosts = reachable_hosts(host)
    ssl = _ssl_context(Path(app.instance_path), use_https, cert, key, hosts)
    print_exports(app.config)
    print_banner("https" if ssl else "http", port, hosts)
    run_simple(host, port, app, threaded=True, ssl_context=ssl, use_reloader=False)
