"""How close LiteRT gets to this CPU's peak: model FLOPs x inferences/s vs peak FLOP/s.

    .venv/bin/python -m benchmarks.hardware_limit [--models fast accurate] [--threads 1 2]
        [--runs 10] [--matmul-size 2048] [--exports DIR]

* Model FLOPs: the TensorFlow profiler on the frozen batch-1 inference graph, the same
  count as MODELS.md / :func:`benchmarks.models_report.flops` (a multiply-add counts 2).
* Achieved: FLOPs x inferences/s of the TFLite fp32 export in LiteRT (XNNPACK), timing
  ``invoke()`` only, for each thread count.
* Peak, derived: threads x clock x FLOP/cycle/core. The clock is read from /proc/cpuinfo
  (``cpu MHz``; the maximum of ``lscpu`` when it reports one); FLOP/cycle from the ISA
  flags: AVX2+FMA = 2 FMA units x 8 fp32 lanes x 2 = 32 (Zen 2/3, Haswell+), AVX-512 = 64.
* Peak, measured: a large float32 numpy matmul (OpenBLAS), 2 N^3 FLOPs, its BLAS thread
  pool limited to the same thread count.

Matmul and model alternate round by round, so both see the same machine load.
Prints a Markdown table and writes ``benchmarks/results/hardware_limit.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import RESULTS, machine_line, markdown_table, median, publish, report_head
from benchmarks.models_report import flops  # the project's FLOP count (TF profiler)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_peak() -> dict[str, Any]:
    """Clock, FLOP/cycle/core and the assumptions behind them."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)]
    found_flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(found_flags.group(1).split()) if found_flags else set()
    clock_source, clock_mhz = "/proc/cpuinfo cpu MHz (max over cores)", max(mhz, default=0.0)
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        found = re.search(r"^CPU max MHz:\s*([\d.]+)", lscpu, re.M)
        if found and float(found.group(1)) > clock_mhz:
            clock_source, clock_mhz = "lscpu CPU max MHz", float(found.group(1))
    except (OSError, subprocess.SubprocessError):
        pass
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512: 2 FMA units x 16 fp32 lanes x 2 (1-FMA-unit parts: half)"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "AVX2+FMA: 2 FMA units x 8 fp32 lanes x 2 FLOP per FMA"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX: 1 add + 1 mul unit x 8 fp32 lanes"
    else:
        per_cycle, isa = 8, "SSE: 1 add + 1 mul unit x 4 fp32 lanes"
    return {"clock_ghz": clock_mhz / 1000, "clock_source": clock_source,
            "flops_per_cycle_per_core": per_cycle, "isa": isa,
            "assumptions": "the clock is the one the kernel reports (a VM shows the nominal "
                           "clock: boost, if any, would raise the real peak); all cores run "
                           "FMAs back to back at that clock"}


def _blas_limit(threads: int) -> Any:
    # threadpoolctl comes with scikit-learn (export extra); it sets OpenBLAS' pool size
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


def matmul_gflops(a: np.ndarray, b: np.ndarray, threads: int) -> float:
    """GFLOP/s of one ``a @ b`` with the BLAS pool limited to ``threads``."""
    with _blas_limit(threads):
        start = time.perf_counter()
        np.matmul(a, b)
        seconds = time.perf_counter() - start
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / seconds / 1e9


def measure(models: dict[str, Any], threads: list[int], runs: int, per_round: int,
            size: int) -> tuple[dict[int, list[float]], dict[tuple[str, int], list[float]]]:
    """Interleaved matmul GFLOP/s per thread count and invoke ms per (model, threads)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    blas: dict[int, list[float]] = {t: [] for t in threads}
    invoke: dict[tuple[str, int], list[float]] = {k: [] for k in models}
    for t in threads:  # warm-up: BLAS pool start, XNNPACK weight packing
        matmul_gflops(a, b, t)
    for interp in models.values():
        for _ in range(3):
            interp.invoke()
    for r in range(runs):
        for t in threads if r % 2 == 0 else threads[::-1]:
            blas[t].append(matmul_gflops(a, b, t))
            for key, interp in models.items():
                if key[1] != t:
                    continue
                for _ in range(per_round):
                    start = time.perf_counter()
                    interp.invoke()
                    invoke[key].append((time.perf_counter() - start) * 1000)
    return blas, invoke


def run(args: argparse.Namespace) -> dict[str, Any]:
    import sdk
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    found, notes = _exports.models_to_measure(args.models)
    root = args.exports
    image = synthetic_probes(1)[0]
    interps, gflop = {}, {}
    for name, model_dir in found.items():
        gflop[name] = flops(str(model_dir))
        made = _exports.ensure_exports(model_dir, [("tflite", "fp32")], root, None)
        path = made[("tflite", "fp32")].path
        for t in args.threads:
            det = sdk.load(path, num_threads=t)
            det.backend.interp.set_tensor(det.backend.input["index"],
                                          preprocess(image, det.spec.input)[0])
            interps[(name, t)] = det.backend.interp
    blas, invoke = measure(interps, args.threads, args.runs, args.per_round, args.matmul_size)
    peak = cpu_peak()
    rows = []
    for (name, t), samples in invoke.items():
        ms = median(samples)
        achieved = gflop[name] * 1000 / ms
        derived = t * peak["clock_ghz"] * peak["flops_per_cycle_per_core"]
        measured = median(blas[t])
        rows.append({"model": name, "threads": t, "gflops_per_inference": gflop[name],
                     "invoke_ms": ms, "inferences_per_s": 1000 / ms,
                     "achieved_gflops_per_s": achieved, "peak_derived_gflops_per_s": derived,
                     "peak_matmul_gflops_per_s": measured,
                     "fraction_of_derived_peak": achieved / derived,
                     "fraction_of_matmul_peak": achieved / measured,
                     "matmul_fraction_of_derived_peak": measured / derived,
                     "runs": len(samples)})
    return {**report_head("hardware_limit", "ai-edge-litert", "numpy", "tensorflow",
                          "threadpoolctl"),
            "cpu_peak": peak, "blas": _blas_info(), "threads": args.threads, "rounds": args.runs,
            "invokes_per_round": args.per_round, "matmul_size": args.matmul_size,
            "flops_counted_by": "TF profiler float_operation on the frozen batch-1 graph "
                                "(benchmarks.models_report.flops)",
            "rows": rows, "notes": notes}


def _blas_info() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info

    return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report."""
    headers = ("model", "threads", "GFLOP/inf", "invoke ms", "inf/s", "achieved GFLOP/s",
               "derived peak", "matmul peak", "% of derived", "% of matmul")
    return markdown_table(headers, [
        (r["model"], r["threads"], r["gflops_per_inference"], r["invoke_ms"],
         r["inferences_per_s"], r["achieved_gflops_per_s"], r["peak_derived_gflops_per_s"],
         r["peak_matmul_gflops_per_s"], 100 * r["fraction_of_derived_peak"],
         100 * r["fraction_of_matmul_peak"]) for r in report["rows"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _exports.add_model_options(parser, RESULTS / "hardware_limit.json")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--per-round", type=int, default=10, help="invokes per model per round")
    parser.add_argument("--matmul-size", type=int, default=2048, help="N of the N x N matmul")
    args = parser.parse_args(argv)
    report = _exports.with_exports(args, run)
    p = report["cpu_peak"]
    head = [f"{machine_line(report)}; BLAS {report['blas']}; threads {args.threads}; "
            f"{args.runs} rounds x {args.per_round} invokes",
            f"derived peak per core: {p['clock_ghz']:.3f} GHz ({p['clock_source']}) x "
            f"{p['flops_per_cycle_per_core']} FLOP/cycle ({p['isa']}) = "
            f"{p['clock_ghz'] * p['flops_per_cycle_per_core']:.1f} GFLOP/s; {p['assumptions']}"]
    publish(report, args.out, head, table(report), report["notes"])


if __name__ == "__main__":
    main()
