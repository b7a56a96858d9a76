"""``sdk export``: one export, or the format x quantization matrix, with the parity gate.

The ``--format`` choices and the format-specific flags come from the registry
(:func:`exporters.registry.format_options`): nothing here names a format.

Exit codes: 0 every export passed (or was validated structurally where its runtime does
not exist here, e.g. CoreML off macOS, or was already up to date); 1 an export failed or
was refused (the message says why); 2 bad command-line usage; 3 an export missed its
parity budget.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from exporters.registry import format_names, format_options

EXIT_FAILED, EXIT_PARITY = 1, 3
# Short headers keep the table readable in an 80-column terminal (JSON keeps the long ones).
_LABELS = {"quantization": "quant", "size_mb": "MB", "delta_mAP": "ΔmAP", "p50_ms": "p50 ms",
           "p90_ms": "p90 ms"}


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (also by C++ converters) to stderr meanwhile.

    The MLIR quantizer and tensorflowjs print to file descriptor 1; without this, their
    chatter would corrupt ``--json`` output.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _exit_code(rows: list[dict[str, Any]]) -> int:
    from exporters.export import ExportStatus

    statuses = {r["status"] for r in rows}
    if ExportStatus.FAILED in statuses:
        return EXIT_PARITY
    return EXIT_FAILED if ExportStatus.ERROR in statuses else 0


def _report(rows: list[dict[str, Any]], skipped: list[str], paths: tuple[Path, Path] | None,
            title: str, as_json: bool) -> None:
    from exporters.export import ExportStatus
    from exporters.matrix import COLUMNS
    from sdk.commands.console import print_rows

    if as_json:
        click.echo(json.dumps({"title": title, "rows": rows, "skipped": skipped,
                               "tables": [str(p) for p in paths or ()]}, indent=2, default=str))
        return
    print_rows(title, [{_LABELS.get(c, c): r.get(c) for c in COLUMNS} for r in rows], False)
    for row in rows:
        for note in row["notes"]:
            click.echo(f"{row['format']} {row['quantization']}: {note}", err=True)
        if row["status"] in (ExportStatus.FAILED, ExportStatus.DEGRADED):
            report = row.get("parity_report") or {}
            shown = {k: report.get(k) for k in ("reasons", "raw", "detections", "metrics")}
            click.echo(f"{row['format']} {row['quantization']} parity report: "
                       f"{json.dumps(shown, default=str)}", err=True)
        if row.get("out_dir"):
            click.echo(f"-> {row['out_dir']}")
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)
    if paths:
        click.echo(f"tables: {paths[0]} {paths[1]}")


def _quantize_help() -> str:
    from exporters.registry import get_format

    per_format = "; ".join(f"{n}: {', '.join(get_format(n).quantizations)}"
                           for n in format_names())
    return (f"Quantization, first = default ({per_format}); a comma-separated list "
            f"(e.g. fp32,fp16) or 'all' for several.")


def _on_cell(row: dict[str, Any]) -> None:
    click.echo(f"[{row['format']} {row['quantization']}] {row['status']}", err=True)


def _format_option_flags(command: Callable) -> Callable:
    """One click option per declared format option (a flag for a bool)."""
    for name, declared in reversed(format_options().items()):
        option = declared[0][1]
        helps = "; ".join(f"{fmt}: {o.help}" for fmt, o in declared)
        if option.type is bool:
            command = click.option(option.flag, name, is_flag=True, default=None,
                                   help=helps)(command)
        else:
            command = click.option(option.flag, name, type=option.type, default=None,
                                   help=f"{helps} (default {option.default})")(command)
    return command


@click.command(name="export")
@click.option("--format", "fmt", type=click.Choice([*format_names(), "all"]), required=True,
              help="Target format, or 'all' for the matrix.")
@click.option("--quantize", "quantization", default=None, help=_quantize_help())
@click.option("--model", default="fast", show_default=True,
              help="'fast', 'accurate', a 'sdk train' folder or a SavedModel export.")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("exports"), show_default=True,
              help="Folder receiving <model>-<format>-<quantization>/ and matrix tables.")
@click.option("--calib", type=click.Path(path_type=Path), default=None,
              help="Calibration images for int8: a folder or dataset (default: --data train), "
                   "or 'photos' (crops of scikit-image's real photos, for models of natural "
                   "images imported without data).")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="Dataset: its --split gives ΔmAP (the probe images stay the synthetic set).")
@click.option("--split", default="val", show_default=True, help="Evaluation split of --data.")
@click.option("--force", is_flag=True, help="Overwrite an existing export folder.")
@click.option("--skip-up-to-date", is_flag=True,
              help="Keep an export folder made from the same weights by this sdk version; "
                   "re-export a stale one.")
@click.option("--allow-degraded", is_flag=True, help="Keep exports that miss their budget.")
@_format_option_flags
@click.option("--max-delta-map", type=click.FloatRange(0), default=None,
              help="Override every ΔmAP budget (points of mAP@[.5:.95]).")
@click.option("--latency-runs", type=click.IntRange(0), default=20, show_default=True,
              help="Timed inferences per export (0: skip latency).")
@click.option("--json", "as_json", is_flag=True, help="Print the result rows as JSON.")
def export(fmt: str, quantization: str | None, model: str, out_root: Path, calib: Path | None,
           data: Path | None, split: str, force: bool, skip_up_to_date: bool,
           allow_degraded: bool, max_delta_map: float | None, latency_runs: int,
           as_json: bool, **format_flags: Any) -> None:
    """Export MODEL to TFLite, TF.js, CoreML or SavedModel and check it against the source.

    Every export is run in its real runtime and compared with the Keras model (parity
    gate); the folder is written only if the export passes (or with --allow-degraded).

    \b
    Examples:
      sdk export --format tfjs
      sdk export --format tfjs --quantize fp32,fp16,uint8 --skip-up-to-date
      sdk export --format tflite --model accurate --quantize int8 --calib images/
      sdk export --format all --quantize all --data data/synth
    Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 over the parity budget.
    """
    from exporters.errors import ExportError
    from exporters.export import ExportJob, ExportStatus
    from exporters.matrix import run_jobs, write_tables
    from exporters.parity import DEFAULT_BUDGETS, budget_for
    from sdk.data import DataError

    budgets = ({k: budget_for(k, max_delta_map) for k in DEFAULT_BUDGETS}
               if max_delta_map is not None else None)
    job = ExportJob(model=model, format=fmt, quantization=quantization, out_root=out_root,
                    calib=calib, data=data, split=split, force=force,
                    skip_up_to_date=skip_up_to_date, allow_degraded=allow_degraded,
                    budgets=budgets, latency_runs=latency_runs,
                    options={k: v for k, v in format_flags.items() if v is not None})
    try:
        with _stdout_to_stderr():
            rows, skipped = run_jobs(job, on_cell=_on_cell)
    except (ExportError, DataError) as exc:
        raise click.ClickException(str(exc)) from exc

    title = f"sdk export --model {model} --format {fmt} --quantize {quantization or 'default'}"
    exported = [r for r in rows if r["status"] != ExportStatus.UP_TO_DATE]
    paths = (write_tables(rows, out_root, job.source_name, title)
             if len(rows) > 1 and exported else None)  # kept folders: the tables stay too
    if len(rows) == 1 and rows[0]["status"] == ExportStatus.ERROR and not as_json:
        raise click.ClickException(rows[0]["notes"][0])  # a refused export: just say why
    _report(rows, skipped, paths, title, as_json)
    click.get_current_context().exit(_exit_code(rows))
