"""Training input pipelines side by side: the background thread against ``tf.data``.

Each pipeline produces training batches (decode, augmentation, target assignment,
normalisation: the same numpy code in both) as fast as it can while nothing trains, so
the figure is the most images per second it can feed a model. The two alternate for
``--rounds`` rounds per architecture; after ``--warmup`` batches (tf.data autotuning,
the thread's queue filling) ``--batches`` batches are timed. The thread decodes every image
once before its first batch (``startup_s``); ``tf.data`` decodes in its parallel map calls.

    .venv/bin/python -m benchmarks.input_pipeline --rounds 3

Uses ``--data`` (default ``runs/input_pipeline/data``, generated once: 160 synthetic
training images). Writes ``benchmarks/results/input_pipeline.json``, prints a table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._common import (  # noqa: E402
    RESULTS,
    machine_line,
    markdown_table,
    median,
    publish,
    report_head,
)


def measure(kind: str, data, cfg, batch_size: int, warmup: int, batches: int) -> dict[str, Any]:
    """Startup time and steady images/s of one pipeline."""
    from sdk.train.pipeline import make_pipeline

    t0 = time.perf_counter()
    pipeline = make_pipeline(kind, data, cfg, batch_size, seed=0)
    stream = pipeline.numpy()
    startup = time.perf_counter() - t0
    for _ in range(warmup):
        next(stream)
    t0 = time.perf_counter()
    for _ in range(batches):
        next(stream)
    seconds = time.perf_counter() - t0
    del stream, pipeline  # the thread blocks on its full queue; tf.data stops prefetching
    return {"pipeline": kind, "startup_s": round(startup, 2),
            "images_per_s": round(batches * batch_size / seconds, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("runs/input_pipeline/data"))
    parser.add_argument("--archs", nargs="+", default=["fast", "accurate"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "input_pipeline.json")
    args = parser.parse_args(argv)

    from sdk.data import load_dataset
    from sdk.data.synth import generate
    from sdk.models import default_config
    from sdk.train.pipeline import DEFAULT, PIPELINES

    if not (args.data / "README.md").is_file():
        generate(args.data, seed=0, train=160, val=0, test=0)
    data = load_dataset(args.data, "train")
    runs: list[dict[str, Any]] = []
    for arch in args.archs:
        cfg = default_config(arch, data.classes)
        for r in range(args.rounds):
            order = PIPELINES if r % 2 == 0 else PIPELINES[::-1]  # alternate who goes first
            for kind in order:
                row = {"arch": arch, "round": r + 1,
                       **measure(kind, data, cfg, args.batch_size, args.warmup, args.batches)}
                print(row, flush=True)
                runs.append(row)
    summary = []
    for arch in args.archs:
        for kind in PIPELINES:
            mine = [r for r in runs if r["arch"] == arch and r["pipeline"] == kind]
            summary.append({"arch": arch, "pipeline": kind,
                            "images_per_s": median(r["images_per_s"] for r in mine),
                            "startup_s": median(r["startup_s"] for r in mine)})
    report = {**report_head("input_pipeline", "tensorflow", "numpy", "pillow"),
              "data": {"path": str(args.data), "images": len(data.samples)},
              "batch_size": args.batch_size, "warmup": args.warmup, "batches": args.batches,
              "rounds": args.rounds, "default": DEFAULT, "summary": summary, "runs": runs}
    table = markdown_table(["arch", "pipeline", "images/s (median)", "startup s"],
                           [[s["arch"], s["pipeline"], s["images_per_s"], s["startup_s"]]
                            for s in summary])
    publish(report, args.out, [machine_line(report)], table)
    return report


if __name__ == "__main__":
    main()
