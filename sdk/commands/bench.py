"""``sdk bench``: the standardized device benchmark on this machine, optionally submitted."""

from __future__ import annotations

from pathlib import Path

import click

from sdk.runtime.registry import runnable_formats

QUANTS = ("fp32", "fp16", "int8_dynamic", "int8")
FORMATS = runnable_formats()  # the export formats an engine of sdk.runtime.registry runs


@click.command()
@click.option("--model", default="fast", show_default=True,
              help="'fast', 'accurate' (looked up in --exports) or an export folder.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=FORMATS[0],
              show_default=True)
@click.option("--quantize", default="fp32", show_default=True,
              help=f"Quantization of the export to run ({', '.join(QUANTS)}).")
@click.option("--exports", type=click.Path(path_type=Path), default=Path("exports"),
              show_default=True, help="Folder holding '<model>-<format>-<quant>' exports.")
@click.option("--threads", type=click.IntRange(1), default=None, help="LiteRT threads.")
@click.option("--submit", metavar="URL", default=None,
              help="Collector base URL to submit the report to (e.g. http://host:8000).")
@click.option("--token", envvar="SDK_BENCH_TOKEN", default=None,
              help="Submission token, if the collector wants one.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM certificate to trust for an HTTPS --submit URL with a self-signed "
                   "one (sdk serve's: instance/demo-cert.pem).")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def bench(model: str, fmt: str, quantize: str, exports: Path, threads: int | None,
          submit: str | None, token: str | None, cacert: str | None, as_json: bool) -> None:
    """Run the device benchmark protocol on an exported model with the Python runtime.

    The accuracy fingerprint compares with the export's own fp32 reference detections
    (its reference.json); without one, the model is compared with itself.
    """
    import json

    from sdk.bench.cli_support import print_report, resolve_export, run_cli_benchmark, submit_to
    from sdk.runtime.contract import RuntimeLoadError
    from sdk.spec import SpecError

    try:
        path, info = resolve_export(model, fmt, quantize, exports)
        report = run_cli_benchmark(path, info, threads)
    except (RuntimeLoadError, SpecError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        print_report(report)
    if submit:
        click.echo(submit_to(submit, report, token, cacert), err=True)
