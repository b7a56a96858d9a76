"""What each export costs: wall time and peak memory of ``sdk export``, per format x quantization.

    .venv/bin/python -m benchmarks.export_cost [--model fast] [--runs 3]
        [--formats tflite tfjs coreml savedmodel] [--quantize fp32 int8 ...] [--calib data/synth]

Every export runs as its own child process, exactly what a user types:
``python -m sdk.cli export --format F --quantize Q --model M --out TMP --force``
(plus ``--calib`` for calibrated quantizations), with the CLI's defaults otherwise: parity
gate against the Keras model and its latency runs included. Measured per child:

* wall time from spawn to exit (Python + TensorFlow start-up and model load included);
  ``export_s`` is the exporter's own time from ``--json`` (calibration, conversion,
  parity gate, latency runs; without start-up and model load/trace);
* peak RSS: ``ru_maxrss`` from ``wait4`` of that child, i.e. the largest resident set of
  the export process or any process it waited for (Node for the TF.js parity gate),
  whichever is larger (not their sum).

A ``baseline`` child (import TensorFlow, load the model, nothing else) shows the fixed
part. Cells run round-robin, ``--runs`` rounds; figures are medians.
Prints a Markdown table and writes ``benchmarks/results/export_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, machine_line, markdown_table, median, publish, report_head
from benchmarks._exports import DATA

REPO = Path(__file__).resolve().parents[1]  # children run here: python -m sdk.cli finds sdk

BASELINE = ("baseline", "-")
BASELINE_CODE = ("import os, sys; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2'); "
                 "import tensorflow; from sdk.models.io import load_detector; "
                 "load_detector(sys.argv[1])")


def cells_for(formats: list[str] | None, quantizations: list[str] | None,
              ) -> list[tuple[str, str]]:
    """Every registered (format, quantization), filtered by the options."""
    from exporters.registry import format_names, get_format

    return [(f, q) for f in format_names() if not formats or f in formats
            for q in get_format(f).quantizations if not quantizations or q in quantizations]


def command(cell: tuple[str, str], model: str, out: Path, calib: Path | None,
            extra: list[str]) -> list[str]:
    """The child's argv for one cell."""
    if cell == BASELINE:
        return [sys.executable, "-c", BASELINE_CODE, model]
    from exporters.registry import get_format

    fmt, quant = cell
    argv = [sys.executable, "-m", "sdk.cli", "export", "--format", fmt, "--quantize", quant,
            "--model", model, "--out", str(out), "--force", "--json", *extra]
    if quant in get_format(fmt).calibrated and calib is not None:
        argv += ["--calib", str(calib)]
    return argv


def run_child(argv: list[str], timeout: float, log: Path) -> dict[str, Any]:
    """Run ``argv``; wall seconds, peak RSS (MiB) from wait4, exit code, stdout text."""
    import subprocess

    with open(log, "w") as err, tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=REPO)
        timed_out = False
        while True:  # wait4 (not Popen.wait) to get this child's own rusage
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout and not timed_out:
                proc.kill()
                timed_out = True
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "exit_code": proc.returncode, "timed_out": timed_out, "stdout": stdout}


def _export_row(stdout: str) -> dict[str, Any]:
    try:
        rows = json.loads(stdout)["rows"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return {}
    return rows[0] if rows else {}


def measure(cells: list[tuple[str, str]], args: argparse.Namespace, work: Path,
            ) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Run every cell ``args.runs`` times round-robin; samples per cell."""
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {c: [] for c in cells}
    for r in range(args.runs):
        for cell in cells if r % 2 == 0 else cells[::-1]:
            out = work / f"{cell[0]}-{cell[1]}-{r}"
            log = work / f"{cell[0]}-{cell[1]}-{r}.log"
            result = run_child(command(cell, args.model, out, args.calib, args.extra),
                               args.timeout, log)
            row = _export_row(result.pop("stdout"))
            if result["exit_code"] != 0:
                result["stderr_tail"] = log.read_text(errors="replace")[-600:]
            result.update({k: row.get(k) for k in ("status", "size_mb", "seconds")})
            result["variant"] = row.get("quantization")
            samples[cell].append(result)
            print(f"[round {r + 1}/{args.runs}] {cell[0]} {cell[1]}: {result['wall_s']:.1f} s, "
                  f"{result['peak_rss_mb']:.0f} MiB, exit {result['exit_code']}",
                  file=sys.stderr)
            shutil.rmtree(out, ignore_errors=True)
    return samples


def summarize(cell: tuple[str, str], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of one cell's runs (over the successful ones when any succeeded)."""
    ok = [r for r in runs if r["exit_code"] == 0] or runs
    seconds = [r["seconds"] for r in ok if r.get("seconds") is not None]
    return {"format": cell[0], "quantization": cell[1],
            "variant": ok[-1].get("variant"), "status": ok[-1].get("status"),
            "exit_codes": [r["exit_code"] for r in runs],
            "wall_s": median(r["wall_s"] for r in ok),
            "export_s": median(seconds) if seconds else None,
            "peak_rss_mb": median(r["peak_rss_mb"] for r in ok),
            "size_mb": ok[-1].get("size_mb"), "runs": len(runs),
            **({"error": runs[-1].get("stderr_tail")} if runs[-1]["exit_code"] else {})}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sdk.models.io import resolve_model_dir

    resolve_model_dir(args.model)  # fail early with the sdk's message
    cells = [*([] if args.no_baseline else [BASELINE]), *cells_for(args.formats, args.quantize)]
    work = Path(tempfile.mkdtemp(prefix="export-cost-"))
    try:
        samples = measure(cells, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        **report_head("export_cost", "tensorflow", "tensorflowjs", "coremltools",
                      "ai-edge-litert", "numpy"),
        "model": args.model, "calib": str(args.calib), "runs": args.runs,
        "threads": "library defaults (TensorFlow, LiteRT: all cores)",
        "command": " ".join(command(("tflite", "int8"), args.model, Path("OUT"), args.calib,
                                    args.extra)),
        "baseline_command": f"python -c \"{BASELINE_CODE}\" {args.model}",
        "peak_rss": "ru_maxrss of wait4(child): max over the child and the processes it "
                    "waited for, not their sum",
        "rows": [summarize(c, samples[c]) for c in cells],
        "samples": {f"{c[0]}/{c[1]}": samples[c] for c in cells},
    }


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report."""
    headers = ("format", "quant", "status", "wall s", "export s", "start-up + load s",
               "peak RSS MiB", "MB")
    return markdown_table(headers, [
        (r["format"], r["variant"] or r["quantization"], r["status"] or
         ("ok" if not any(r["exit_codes"]) else f"exit {r['exit_codes']}"), r["wall_s"],
         r["export_s"], r["wall_s"] - r["export_s"] if r["export_s"] else None,
         r["peak_rss_mb"], r["size_mb"]) for r in report["rows"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fast", help="fast, accurate or a 'sdk train' folder")
    parser.add_argument("--formats", nargs="+", help="subset of formats (default: all)")
    parser.add_argument("--quantize", nargs="+", help="subset of quantizations (default: all)")
    parser.add_argument("--calib", type=Path, default=DATA,
                        help="calibration images for int8 (dataset root or folder)")
    parser.add_argument("--runs", type=int, default=3, help="rounds over all cells")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the import-TensorFlow-and-load-the-model baseline child")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per export")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="further 'sdk export' options, e.g. --extra --latency-runs 0")
    parser.add_argument("--out", type=Path, default=RESULTS / "export_cost.json")
    args = parser.parse_args(argv)
    report = run(args)
    head = [f"{machine_line(report)}; model {args.model}; {args.runs} runs per cell, "
            f"round-robin; threads: {report['threads']}", f"each cell: {report['command']}"]
    publish(report, args.out, head, table(report))


if __name__ == "__main__":
    main()
