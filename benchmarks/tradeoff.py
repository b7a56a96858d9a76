"""Fast vs Accurate: the speed ratio, the mAP gap, and the speed/accuracy trade-off curve.

After Huang et al. (*Speed/accuracy trade-offs for modern convolutional object detectors*):
every variant of both detectors (fp32 and each quantization of ``--format``, TFLite by
default) is a point of mAP against latency; the Pareto frontier (no other point is both
faster and more accurate) is what is worth deploying.

* mAP and AP_small come from the export matrix JSONs (``sdk export --format all
  --quantize all --model fast|accurate --data data/synth``: the artifact itself evaluated);
* latency is measured here by default (``--latency measure``): every variant's export
  folder loaded with LiteRT and timed interleaved in one process (invoke + readback on a
  probe scene), so all ratios come from one run; ``--latency matrix`` uses the p50 the
  matrix recorded instead (separate runs: noisier ratios).

    python -m benchmarks.tradeoff [exports/fast-matrix.json exports/accurate-matrix.json]
    python -m benchmarks.tradeoff --latency matrix --plot /tmp/tradeoff.png

Writes ``benchmarks/results/tradeoff.png`` (the curve) and ``tradeoff.json``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import markdown_table, median, percentile, report_head, write_json
from benchmarks._timing import detector_rounds
from benchmarks.quantization_table import (
    DEFAULT_MATRICES,
    ap_small,
    base_quantization,
    export_folder,
    latency_runs,
    load_matrix,
)

MARKERS = {"fast": ("o", "tab:blue"), "accurate": ("s", "tab:orange")}


def points_of(matrix: dict[str, Any], fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The plottable variants of one model in ``fmt``, and why others were left out."""
    points, left_out = [], []
    for row in matrix["rows"]:
        if row["format"] != fmt:
            continue
        label = f"{matrix['model']} {row['quantization']}"
        if row.get("status") not in ("ok", "degraded") or row.get("mAP") is None:
            left_out.append(f"{label}: status {row.get('status')}, mAP {row.get('mAP')} "
                            "(export with --data to evaluate it)")
            continue
        folder = export_folder(matrix, row)
        points.append({"model": matrix["model"], "quantization": row["quantization"],
                       "label": label, "mAP": row["mAP"], "AP_small": ap_small(row),
                       "delta_mAP_pt": row.get("delta_mAP"), "size_mb": row.get("size_mb"),
                       "out_dir": str(folder) if folder else None, "status": row["status"],
                       "matrix_p50_ms": row.get("p50_ms"), "matrix_p90_ms": row.get("p90_ms"),
                       "matrix_runs": latency_runs(folder, row),
                       "matrix_runtime": row.get("runtime")})
    return points, left_out


def measure(points: list[dict[str, Any]], threads: int, rounds: int, per_round: int,
            ) -> str:
    """Time every point's export interleaved (rotating order); sets ``p50_ms``/``p90_ms``."""
    import sdk
    from sdk.probes import synthetic_probes

    missing = [p["label"] for p in points if not p["out_dir"] or not Path(p["out_dir"]).is_dir()]
    if missing:
        raise SystemExit(f"export folders missing for {', '.join(missing)}: re-run sdk export "
                         "or pass --latency matrix")
    detectors = {p["label"]: sdk.load(p["out_dir"], num_threads=threads) for p in points}
    samples = detector_rounds(detectors, synthetic_probes(1)[0], rounds, per_round)
    for point in points:
        times = samples[point["label"]]
        point.update(p50_ms=round(median(times), 3), p90_ms=round(percentile(times, 90), 3),
                     runs=len(times))
    return f"{next(iter(detectors.values())).backend.name}, {threads} threads, interleaved"


def pareto(points: list[dict[str, Any]]) -> None:
    """Mark ``pareto`` on points no other point beats on both latency and mAP."""
    best = float("-inf")
    for point in sorted(points, key=lambda p: (p["p50_ms"], -p["mAP"])):
        point["pareto"] = point["mAP"] > best
        best = max(best, point["mAP"])


def headline(points: list[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]]:
    """Per quantization both models have: latency ratio b/a and b - a gaps in mAP points."""
    index = {(p["model"], base_quantization(p)): p for p in points}
    out = []
    for (model, quant), pa in index.items():
        pb = index.get((b, quant))
        if model != a or pb is None:
            continue
        small = (None if pa["AP_small"] is None or pb["AP_small"] is None
                 else round(100 * (pb["AP_small"] - pa["AP_small"]), 2))
        out.append({"quantization": quant, f"{a}_p50_ms": pa["p50_ms"],
                    f"{b}_p50_ms": pb["p50_ms"],
                    "speed_ratio": round(pb["p50_ms"] / pa["p50_ms"], 2),
                    "mAP_gap_pt": round(100 * (pb["mAP"] - pa["mAP"]), 2),
                    "AP_small_gap_pt": small})
    return out


def plot(points: list[dict[str, Any]], out: Path, xlabel: str, title: str) -> Path:
    """mAP vs latency scatter with the Pareto frontier; written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for model in dict.fromkeys(p["model"] for p in points):
        mine = [p for p in points if p["model"] == model]
        marker, color = MARKERS.get(model, ("^", None))
        ax.scatter([p["p50_ms"] for p in mine], [100 * p["mAP"] for p in mine], s=40,
                   marker=marker, color=color, label=model, zorder=3)
        for k, p in enumerate(sorted(mine, key=lambda p: p["p50_ms"])):  # alternate: no overlap
            ax.annotate(p["quantization"], (p["p50_ms"], 100 * p["mAP"]), fontsize=8,
                        xytext=(4, 4 if k % 2 == 0 else -11), textcoords="offset points")
    front = sorted((p for p in points if p["pareto"]), key=lambda p: p["p50_ms"])
    xs, ys = [p["p50_ms"] for p in front], [100 * p["mAP"] for p in front]
    slowest = max(p["p50_ms"] for p in points)
    if slowest > xs[-1]:  # nothing slower beats the last frontier point: extend it
        xs, ys = [*xs, slowest], [*ys, ys[-1]]
    ax.step(xs, ys, where="post", linestyle="--", color="grey", zorder=2,
            label="Pareto frontier")
    ax.scatter([p["p50_ms"] for p in front], [100 * p["mAP"] for p in front], s=140,
               facecolors="none", edgecolors="black", zorder=4)
    ax.set(xlabel=xlabel, ylabel="mAP@[.5:.95] (points)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".png")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)
    return out


def markdown(report: dict[str, Any]) -> str:
    """Headline table, then every point with its frontier flag."""
    a, b = report["compare"]
    head = ("quantization", f"{a} p50 ms", f"{b} p50 ms", f"{b}/{a} latency",
            f"mAP {b}-{a} pt", f"AP_small {b}-{a} pt")
    rows = [list(h.values()) for h in report["headline"]]
    points = markdown_table(
        ("variant", "p50 ms", "p90 ms", "mAP", "AP_small", "MB", "Pareto"),
        ([p["label"], p["p50_ms"], p.get("p90_ms"), p["mAP"], p["AP_small"], p["size_mb"],
          "yes" if p["pareto"] else ""] for p in report["points"]))
    notes = [f"* left out: {line}" for line in report["left_out"]]
    if not rows:
        notes.append(f"* no headline: {a} and {b} need variants of the same quantization")
    for h in report["headline"]:
        if h["quantization"] == "fp32":
            notes.insert(0, f"{a} is {h['speed_ratio']:.2f}x faster than {b} (fp32); {b} is "
                         f"{h['mAP_gap_pt']:+.2f} mAP points, "
                         f"{h['AP_small_gap_pt'] if h['AP_small_gap_pt'] is not None else 'n/a'}"
                         " AP_small points better (negative: worse).")
    return "\n".join([markdown_table(head, rows), "", points, "", f"latency: "
                      f"{report['latency']}", *notes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("matrices", nargs="*", type=Path,
                        help=f"matrix JSON files (default: {' '.join(DEFAULT_MATRICES)})")
    parser.add_argument("--format", default="tflite", help="which format's variants to plot")
    parser.add_argument("--compare", nargs=2, default=["fast", "accurate"],
                        metavar=("A", "B"), help="the two models of the headline ratios")
    parser.add_argument("--latency", choices=["measure", "matrix"], default="measure")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tradeoff.json"))
    parser.add_argument("--plot", type=Path, default=Path("benchmarks/results/tradeoff.png"))
    args = parser.parse_args()
    paths = args.matrices or [Path(p) for p in DEFAULT_MATRICES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"missing matrix JSON: {', '.join(missing)} (sdk export --format all "
                         "--quantize all --model <name> --data data/synth)")
    matrices = [load_matrix(p) for p in paths]
    points, left_out = [], []
    for matrix in matrices:
        found, dropped = points_of(matrix, args.format)
        points += found
        left_out += dropped
    if not points:
        raise SystemExit(f"no evaluated {args.format} variant in {', '.join(map(str, paths))}")
    if args.latency == "measure":
        how = measure(points, args.threads, args.rounds, args.per_round)
    else:
        for p in points:
            p.update(p50_ms=p["matrix_p50_ms"], p90_ms=p["matrix_p90_ms"], runs=p["matrix_runs"])
        how = "from the matrix JSONs (one sdk export run per model): " + "; ".join(
            sorted({f"{p['model']}: {p['matrix_runtime']}" for p in points}))
    pareto(points)
    xlabel = f"{args.format} p50 latency, ms ({how if args.latency == 'measure' else 'sdk export'})"
    measured = args.latency == "measure"
    report = {**report_head("tradeoff", "ai-edge-litert", "numpy"), "latency": how,
              "threads": args.threads if measured else None,
              "rounds": args.rounds if measured else None, "compare": args.compare,
              "sources": [{k: m[k] for k in ("model", "path", "sha256", "written")}
                          for m in matrices],
              "headline": headline(points, *args.compare), "points": points,
              "left_out": left_out, "plot": str(args.plot)}
    plot(points, args.plot, xlabel, "Speed/accuracy trade-off (Pareto frontier dashed)")
    write_json(args.out, report)
    print(markdown(report))
    print(f"-> {args.out}, {args.plot}")


if __name__ == "__main__":
    main()
