"""``sdk recommend``: the most accurate variant that runs fast enough on a kind of device."""

from __future__ import annotations

import click


@click.command()
@click.option("--device", required=True, help="Substring of the device name, e.g. 'iPhone'.")
@click.option("--min-fps", type=click.FloatRange(0, min_open=True), required=True)
@click.option("--server", default="http://127.0.0.1:8000", show_default=True,
              help="Collector base URL (the web demo serves one).")
@click.option("--json", "as_json", is_flag=True)
def recommend(device: str, min_fps: float, server: str, as_json: bool) -> None:
    """Pick the most accurate model variant whose collected FPS on DEVICE meets MIN_FPS."""
    from dataclasses import asdict

    from sdk.bench.recommend import RecommendError, fetch_variants, pick
    from sdk.commands.console import print_rows

    try:
        variants = fetch_variants(server, device)
    except RecommendError as exc:
        raise click.ClickException(str(exc)) from exc
    choice = pick(variants, min_fps)
    if choice is None:
        raise click.ClickException(
            f"no variant with a known mAP reaches {min_fps:g} FPS on devices matching "
            f"{device!r} ({len(variants)} variants have reports); lower --min-fps or collect "
            f"more reports")
    print_rows(f"Recommended for '{device}' at >= {min_fps:g} FPS", [asdict(choice)], as_json)
