"""The export matrix: every format x quantization of one model, and the table to pick from.

Each cell is an ordinary :func:`exporters.export.export` sharing one loaded source (one
SavedModel staging, one calibration, one CoreML conversion, one reference evaluation). A
failing cell becomes a row with its reason; it never stops the other cells.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from exporters.errors import ExportError, ParityError, UnsupportedQuantizationError
from exporters.export import ExportResult, export, prepare
from exporters.probes import probe_set
from exporters.registry import format_names, get_format
from exporters.source import ExportSource, open_source
from sdk.data import Dataset, load_dataset

ALL = "all"
COLUMNS = ("format", "quantization", "status", "size_mb", "mAP", "mAP50", "delta_mAP",
           "p50_ms", "p90_ms", "parity")


def plan(fmt: str, quantization: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(format, quantization) cells for ``--format``/``--quantize``, plus skipped combos.

    Raises:
        UnsupportedQuantizationError: a single format does not support ``quantization``.
    """
    formats = list(format_names()) if fmt == ALL else [fmt]
    cells, skipped = [], []
    for name in formats:
        cls = get_format(name)
        if quantization in (None, ALL):
            wanted = cls.quantizations if quantization == ALL else (cls.default_quantization,)
            cells += [(name, q) for q in wanted]
        elif quantization in cls.quantizations:
            cells.append((name, quantization))
        elif fmt != ALL:
            raise UnsupportedQuantizationError(name, quantization, cls.quantizations)
        else:
            skipped.append(f"{name} has no {quantization} (valid: "
                           f"{', '.join(cls.quantizations)})")
    if not cells:
        valid = sorted({q for n in formats for q in get_format(n).quantizations})
        raise UnsupportedQuantizationError(fmt, str(quantization), valid)
    return cells, skipped


def result_row(result: ExportResult) -> dict[str, Any]:
    """One table row of a finished export."""
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


def error_row(fmt: str, quantization: str, exc: ExportError) -> dict[str, Any]:
    """The row of a cell that raised (nothing was written for it)."""
    report = getattr(exc, "report", None)
    status = "failed" if isinstance(exc, ParityError) else "error"
    return {"format": fmt, "quantization": quantization, "status": status,
            **dict.fromkeys(COLUMNS[3:]), "parity": "fail" if report else "-",
            "notes": [str(exc)],
            "parity_report": report.to_dict() if report is not None else None}


def _checked(model: str | Path | ExportSource, cells: list[tuple[str, str]], out_root: str | Path,
             calib: Any, data: Any, force: bool, options: Mapping[str, Any],
             ) -> dict[tuple[str, str], dict[str, Any]]:
    """Options per runnable cell, or the error row of a cell refused before any work."""
    checked: dict[tuple[str, str], dict[str, Any]] = {}
    for name, quant in cells:
        # Several cells: each takes the options that apply to it (--int8-io only for int8).
        opts = (get_format(name).applicable_options(quant, dict(options)) if len(cells) > 1
                else dict(options))
        try:
            prepare(model, name, quant, out_root, calib, data, force, opts)
            checked[(name, quant)] = {"options": opts}
        except ExportError as exc:
            checked[(name, quant)] = {"row": error_row(name, quant, exc)}
    return checked


def run_matrix(model: str | Path | ExportSource, fmt: str, quantization: str | None,
               out_root: str | Path, calib: str | Path | None = None,
               data: str | Path | None = None, split: str = "val", force: bool = False,
               options: Mapping[str, Any] | None = None,
               on_cell: Callable[[dict[str, Any]], None] | None = None,
               **export_kwargs: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Export every cell of the plan; returns the rows and the skipped combinations.

    Cells refused by cheap checks (calibration, existing output) become error rows before
    the model is loaded; when no cell is left the model is not loaded at all.
    """
    cells, skipped = plan(fmt, quantization)
    checked = _checked(model, cells, out_root, calib, data, force, options or {})
    runnable = [c for c in cells if "options" in checked[c]]
    if runnable:
        eval_set: Dataset | None = load_dataset(data, split) if data is not None else None
        with (contextlib.nullcontext(model) if isinstance(model, ExportSource)
              else open_source(model)) as source:
            probes = probe_set(eval_set)
            for name, quant in runnable:
                try:
                    row = result_row(export(
                        source, name, quant, out_root, calib, eval_set, force, probes=probes,
                        options=checked[(name, quant)]["options"], **export_kwargs))
                except ExportError as exc:
                    row = error_row(name, quant, exc)
                checked[(name, quant)]["row"] = row
                if on_cell is not None:
                    on_cell(row)
    return [checked[c]["row"] for c in cells], skipped


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
