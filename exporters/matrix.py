"""The export matrix: every format x quantization of one model, and the table to pick from.

Each cell is an ordinary export (:func:`exporters.export.run_export`) of the same
:class:`~exporters.export.ExportJob` narrowed to one format and quantization, sharing one
loaded source (one SavedModel staging, one calibration, one CoreML conversion, one
reference evaluation). A failing cell becomes a row with its reason; it never stops the
other cells.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from exporters.errors import ExportError, ParityError, UnsupportedQuantizationError
from exporters.export import (
    ExportJob,
    ExportPlan,
    ExportResult,
    ExportStatus,
    kept_result,
    prepare,
    resolve_dataset,
    run_export,
)
from exporters.registry import format_names, get_format
from exporters.source import ExportSource, open_source

ALL = "all"
COLUMNS = ("format", "quantization", "status", "size_mb", "mAP", "mAP50", "delta_mAP",
           "p50_ms", "p90_ms", "parity")
Row = dict[str, Any]


def requested(quantization: str | None) -> tuple[str, ...] | None:
    """``--quantize`` as a tuple: None (each format's default), ``("all",)`` or the list.

    Raises:
        ExportError: an empty item, or ``all`` inside a list.
    """
    if quantization is None:
        return None
    wanted = tuple(dict.fromkeys(q.strip() for q in quantization.split(",")))
    if "" in wanted or (ALL in wanted and len(wanted) > 1):
        raise ExportError(f"--quantize {quantization!r}: give one quantization, a "
                          f"comma-separated list of them, or '{ALL}'")
    return wanted


def plan(fmt: str, quantization: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(format, quantization) cells for ``--format``/``--quantize``, plus skipped combos.

    ``quantization`` is None (each format's default), ``all``, one value or a
    comma-separated list.

    Raises:
        UnsupportedQuantizationError: a single format does not support a requested
            quantization, or no format supports any.
    """
    formats = list(format_names()) if fmt == ALL else [fmt]
    wanted = requested(quantization)
    cells, skipped = [], []
    for name in formats:
        cls = get_format(name)
        if wanted is None or wanted == (ALL,):
            cells += [(name, q) for q in (cls.quantizations if wanted else
                                          (cls.default_quantization,))]
            continue
        missing = [q for q in wanted if q not in cls.quantizations]
        if missing and fmt != ALL:
            raise UnsupportedQuantizationError(name, ", ".join(missing), cls.quantizations)
        if missing:
            skipped.append(f"{name} has no {', '.join(missing)} (valid: "
                           f"{', '.join(cls.quantizations)})")
        cells += [(name, q) for q in wanted if q in cls.quantizations]
    if not cells:
        valid = sorted({q for n in formats for q in get_format(n).quantizations})
        raise UnsupportedQuantizationError(fmt, str(quantization), valid)
    return cells, skipped


def result_row(result: ExportResult) -> Row:
    """One table row of a finished (or kept) export."""
    metrics = result.parity.metrics.get("artifact", {})
    lat = result.latency_ms
    variant = "" if result.variant == result.quantization else f" -> {result.variant}"
    return {"format": result.format, "quantization": result.quantization + variant,
            "status": result.status, "size_mb": round(result.size_bytes / 2**20, 3),
            "mAP": metrics.get("mAP"), "mAP50": metrics.get("mAP50"),
            "delta_mAP": result.parity.delta_map,
            "p50_ms": round(float(np.percentile(lat, 50)), 2) if lat else None,
            "p90_ms": round(float(np.percentile(lat, 90)), 2) if lat else None,
            "parity": result.parity.verdict, "runtime": result.runtime,
            "seconds": round(result.seconds, 1),
            "out_dir": str(result.out_dir), "notes": result.notes,
            "parity_report": result.parity.to_dict()}


def error_row(fmt: str, quantization: str, exc: ExportError) -> Row:
    """The row of a cell that raised (nothing was written for it)."""
    report = getattr(exc, "report", None)
    status = ExportStatus.FAILED if isinstance(exc, ParityError) else ExportStatus.ERROR
    return {"format": fmt, "quantization": quantization, "status": status,
            **dict.fromkeys(COLUMNS[3:]), "parity": "fail" if report else "-",
            "notes": [str(exc)],
            "parity_report": report.to_dict() if report is not None else None}


def cell_job(job: ExportJob, fmt: str, quantization: str, alone: bool) -> ExportJob:
    """``job`` narrowed to one cell; among several, each takes the options that apply."""
    options = (dict(job.options) if alone
               else get_format(fmt).applicable_options(quantization, job.options))
    return replace(job, format=fmt, quantization=quantization, options=options)


def _checked(jobs: Mapping[tuple[str, str], ExportJob]) -> dict[tuple[str, str], Any]:
    """Each cell's plan, or the error row of a cell refused before any work."""
    checked: dict[tuple[str, str], Any] = {}
    for cell, job in jobs.items():
        try:
            checked[cell] = prepare(job)
        except ExportError as exc:
            checked[cell] = error_row(*cell, exc)
    return checked


def run_jobs(job: ExportJob, on_cell: Callable[[Row], None] | None = None,
             ) -> tuple[list[Row], list[str]]:
    """Export every cell of ``job``; returns the rows and the skipped combinations.

    Cells refused by cheap checks (calibration, existing output) become error rows and
    up-to-date cells rows of the kept folder, before the model is loaded; when no cell is
    left to export the model is not loaded at all.
    """
    cells, skipped = plan(job.format, job.quantization)
    jobs = {(f, q): cell_job(job, f, q, len(cells) == 1) for f, q in cells}
    rows: dict[tuple[str, str], Row] = {}
    for cell, checked in _checked(jobs).items():
        if isinstance(checked, ExportPlan) and checked.up_to_date:
            rows[cell] = result_row(kept_result(checked))
        elif not isinstance(checked, ExportPlan):
            rows[cell] = checked
    runnable = [c for c in cells if c not in rows]
    for cell in cells:
        if cell in rows and on_cell is not None:
            on_cell(rows[cell])
    if runnable:
        eval_set = resolve_dataset(job.data, job.split)
        with (contextlib.nullcontext(job.model) if isinstance(job.model, ExportSource)
              else open_source(job.model)) as source:
            for cell in runnable:
                try:
                    row = result_row(run_export(replace(jobs[cell], model=source,
                                                        data=eval_set)))
                except ExportError as exc:
                    row = error_row(*cell, exc)
                rows[cell] = row
                if on_cell is not None:
                    on_cell(row)
    return [rows[c] for c in cells], skipped


def run_matrix(model: str | Path | ExportSource, fmt: str, quantization: str | None,
               out_root: str | Path, calib: str | Path | None = None,
               data: str | Path | None = None, split: str = "val", force: bool = False,
               options: Mapping[str, Any] | None = None,
               on_cell: Callable[[Row], None] | None = None,
               **job_fields: Any) -> tuple[list[Row], list[str]]:
    """The keyword form of :func:`run_jobs` (``job_fields``: other :class:`ExportJob`
    fields, e.g. ``allow_degraded``, ``budgets``, ``latency_runs``)."""
    return run_jobs(ExportJob(model=model, format=fmt, quantization=quantization,
                              out_root=out_root, calib=calib, data=data, split=split,
                              force=force, options=options or {}, **job_fields), on_cell)


def markdown(rows: list[dict[str, Any]], title: str) -> str:
    """The matrix as a Markdown table (the one recorded in BENCHMARKS.md)."""
    head = "| " + " | ".join(COLUMNS) + " |"
    lines = [f"## {title}", "", head, "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = ["" if row.get(c) is None else _fmt(row[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"* {r['format']} {r['quantization']}: {' '.join(n.split())}"  # one line each
             for r in rows for n in r["notes"]]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_tables(rows: list[dict[str, Any]], out_root: str | Path, name: str,
                 title: str) -> tuple[Path, Path]:
    """Save ``<name>-matrix.json`` and ``<name>-matrix.md`` in ``out_root``."""
    from sdk.atomic import write_text_atomic

    root = Path(out_root)
    json_path, md_path = root / f"{name}-matrix.json", root / f"{name}-matrix.md"
    write_text_atomic(json_path, json.dumps({"title": title, "rows": rows}, indent=2,
                                            default=str) + "\n")
    write_text_atomic(md_path, markdown(rows, title))
    return json_path, md_path
