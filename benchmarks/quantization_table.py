"""What each quantization buys and costs, per format: speed-up, ΔmAP and size vs fp32.

Reads the export matrix JSON written by ``sdk export --format all --quantize all --data
...`` (``exports/<model>-matrix.json``; nothing is re-exported or re-measured) and puts
every cell beside its format's fp32 cell:

* speed-up = fp32 p50 / cell p50 (> 1: faster), both measured by the same ``sdk export``
  run in the format's own runtime (LiteRT, TF.js wasm in Node, TensorFlow);
* ΔmAP = mAP points lost against the Keras source on ``--data`` (matrix convention:
  positive = worse); size ratio = cell MB / fp32 MB.

A format without an fp32 cell (CoreML: fp16 first) is compared with its first cell, named
in the ``vs`` column. CoreML cannot run on Linux: its rows have sizes only.

    python -m benchmarks.quantization_table [exports/fast-matrix.json exports/accurate-matrix.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import machine_info, markdown_table, write_json

DEFAULT_MATRICES = ("exports/fast-matrix.json", "exports/accurate-matrix.json")
HEAD = ("model", "format", "quantization", "vs", "MB", "size x", "p50 ms", "speed-up",
        "ΔmAP pt", "mAP", "AP_small", "status")


def load_matrix(path: Path) -> dict[str, Any]:
    """A matrix JSON with its model name (``<model>-matrix.json``) and where it came from."""
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise SystemExit(f"{path}: not an export matrix (expected {{'title', 'rows': [...]}})")
    raw = path.read_bytes()
    return {"model": path.name.removesuffix(".json").removesuffix("-matrix"),
            "path": str(path), "title": data.get("title", ""), "rows": data["rows"],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "written": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
                timespec="seconds")}


def base_quantization(row: dict[str, Any]) -> str:
    """``int8`` for ``int8 -> int8_float_head`` (a fallback keeps the requested name first)."""
    return str(row["quantization"]).split(" -> ")[0]


def export_folder(matrix: dict[str, Any], row: dict[str, Any]) -> Path | None:
    """The cell's export folder: ``out_dir`` as recorded, else beside the matrix JSON."""
    if not row.get("out_dir"):
        return None
    recorded = Path(row["out_dir"])
    beside = Path(matrix["path"]).parent / recorded.name  # run from another directory
    return recorded if recorded.is_dir() or not beside.is_dir() else beside


def latency_runs(folder: Path | None, row: dict[str, Any]) -> int | None:
    """Timed runs behind the cell's p50, from the export's detector.json if it is that run's."""
    spec = (folder or Path("/nonexistent")) / "detector.json"
    if not spec.is_file() or row.get("p50_ms") is None:
        return None
    latency = (json.loads(spec.read_text()).get("metrics") or {}).get("latency_ms") or {}
    same_run = round(latency.get("p50", -1), 2) == row["p50_ms"]
    return latency.get("runs") if same_run else None


def ap_small(row: dict[str, Any]) -> float | None:
    """AP for small objects of the artifact, when the matrix evaluated it (``--data``)."""
    report = row.get("parity_report") or {}
    return ((report.get("metrics") or {}).get("artifact") or {}).get("AP_small")


def _ratio(numerator: Any, denominator: Any, digits: int = 2) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, digits)


def table_rows(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """Every cell of one matrix compared with its format's reference cell."""
    by_format: dict[str, list[dict[str, Any]]] = {}
    for row in matrix["rows"]:
        by_format.setdefault(row["format"], []).append(row)
    out = []
    for fmt, rows in by_format.items():
        ref = next((r for r in rows if base_quantization(r) == "fp32"), rows[0])
        for row in rows:
            out.append({
                "model": matrix["model"], "format": fmt, "quantization": row["quantization"],
                "vs": base_quantization(ref), "size_mb": row.get("size_mb"),
                "size_ratio": _ratio(row.get("size_mb"), ref.get("size_mb")),
                "p50_ms": row.get("p50_ms"), "p90_ms": row.get("p90_ms"),
                "speedup": _ratio(ref.get("p50_ms"), row.get("p50_ms")),
                "delta_mAP_pt": row.get("delta_mAP"), "mAP": row.get("mAP"),
                "AP_small": ap_small(row), "status": row.get("status"),
                "runtime": row.get("runtime") or "",
                "latency_runs": latency_runs(export_folder(matrix, row), row),
                "notes": row.get("notes") or []})
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table printed and pasted into BENCHMARKS.md."""
    keys = ("model", "format", "quantization", "vs", "size_mb", "size_ratio", "p50_ms",
            "speedup", "delta_mAP_pt", "mAP", "AP_small", "status")
    table = markdown_table(HEAD, ([r[k] for k in keys] for r in rows))
    runtimes = sorted({(r["model"], r["format"], r["runtime"], r["latency_runs"])
                       for r in rows if r["runtime"]})
    lines = [table, "", "Latency measured by `sdk export` in each format's runtime:"]
    lines += [f"* {m} {f}: {rt}, {n or '?'} timed runs per cell" for m, f, rt, n in runtimes]
    lines += [f"* {r['model']} {r['format']} {r['quantization']}: {' '.join(n.split())}"
              for r in rows for n in r["notes"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matrices", nargs="*", type=Path,
                        help=f"matrix JSON files (default: those of {DEFAULT_MATRICES} "
                             "that exist)")
    parser.add_argument("--out", type=Path,
                        default=Path("benchmarks/results/quantization_table.json"))
    args = parser.parse_args()
    paths = args.matrices or [Path(p) for p in DEFAULT_MATRICES if Path(p).is_file()]
    if not paths:
        raise SystemExit("no matrix JSON: run 'sdk export --format all --quantize all "
                         "--model fast --data data/synth' first")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)}")
    matrices = [load_matrix(p) for p in paths]
    rows = [row for m in matrices for row in table_rows(m)]
    report = {"what": "speed-up = fp32 p50 / p50 (same sdk export run, same runtime); "
                      "ΔmAP = mAP points lost vs the Keras source; size x = MB / fp32 MB",
              "machine_running_this_script": machine_info(),
              "sources": [{k: m[k] for k in ("model", "path", "title", "sha256", "written")}
                          for m in matrices],
              "rows": rows}
    write_json(args.out, report)
    for m in matrices:
        print(f"{m['path']}: {m['title']} (written {m['written']})")
    print()
    print(markdown(rows))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
