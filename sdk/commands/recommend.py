"""``sdk recommend``: the most accurate variant that runs fast enough on a kind of device."""

from __future__ import annotations

import click


@click.command()
@click.option("--device", required=True, help="Substring of the device name, e.g. 'iPhone'.")
@click.option("--min-fps", type=click.FloatRange(0, min_open=True), required=True)
@click.option("--server", default="http://127.0.0.1:8000", show_default=True,
              help="Collector base URL (the web demo serves one).")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM certificate to trust for an HTTPS --server with a self-signed one "
                   "(sdk serve's: instance/demo-cert.pem).")
@click.option("--model", default=None,
              help="Only this model's variants (fast, accurate, nanodet, ...). mAPs of models "
                   "evaluated on different datasets do not compare: pick one of them.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the recommendation as JSON (or, without one, why not).")
def recommend(device: str, min_fps: float, server: str, cacert: str | None,
              model: str | None, as_json: bool) -> None:
    """Pick the most accurate model variant whose collected FPS on DEVICE meets MIN_FPS.

    The answer names the export (model, format, quantization) and the engine that ran it at
    that speed (the same export can run on several engines at different speeds).

    Without an answer it says which condition failed (no reports from such a device, no
    variant with a known mAP, none fast enough) and which variant came closest; the exit
    code is then 1.
    """
    import json
    import textwrap
    from dataclasses import asdict

    from sdk.bench.recommend import RecommendError, explain, fetch_devices, fetch_variants, pick
    from sdk.commands.console import print_rows

    try:
        variants = fetch_variants(server, device, cafile=cacert, model=model)
    except RecommendError as exc:
        raise click.ClickException(str(exc)) from exc
    choice = pick(variants, min_fps)
    if choice is not None:
        print_rows(f"Recommended for '{device}' at >= {min_fps:g} FPS", [asdict(choice)],
                   as_json)
        return
    devices = fetch_devices(server, cafile=cacert) if not variants else []
    why = explain(variants, min_fps, device, devices)
    if as_json:
        click.echo(json.dumps({"recommendation": None, "failed": why.failed.value,
                               "message": why.message, "candidate": why.candidate}, indent=2))
        raise click.exceptions.Exit(1)
    if why.candidate is not None:
        keys = ("variant", "runtime", "map", "median_fps", "count", "devices")
        print_rows("Best candidate", [{k: why.candidate.get(k) for k in keys}], False)
    # "Error: " comes first: wrap so that every line fits an 80-column terminal.
    raise click.ClickException(textwrap.fill(why.message, 72, break_on_hyphens=False))
