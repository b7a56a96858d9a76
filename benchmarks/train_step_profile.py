"""Where a detector's train step spends its time, and what the training copy saves.

For each architecture, builds the canonical training model and the copy that
``sdk train`` runs (``sdk.train.fused.for_training``: fused batch norm, pad-free stride-2
depthwise convs) with the same weights, then

* times their train steps side by side: ``--rounds`` interleaved rounds of ``--steps``
  steps on the same batches, median seconds per step and the ratio;
* profiles ``--steps`` steps of each with the TensorFlow profiler and sums the op time by
  op type (summed over the executor's threads, so shares, not wall time).

``--bf16`` adds the training copy built under Keras' ``mixed_bfloat16`` policy (bfloat16
compute, float32 weights and losses), for CPUs with AVX-512 BF16 or AMX.

    .venv/bin/python -m benchmarks.train_step_profile --arch fast --arch accurate

Writes ``benchmarks/results/train_step_profile.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._common import RESULTS, markdown_table, median, report_head, write_json

BATCH_SIZE = {"fast": 16, "accurate": 12}  # the Makefile's weights-* recipes
TOP_OPS = 10


def op_time_by_type(logdir: Path) -> dict[str, float]:
    """Milliseconds per TF op type in the newest profile under ``logdir`` (host threads)."""
    from tensorflow.core.profiler.protobuf import xplane_pb2

    path = max(logdir.rglob("*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    space = xplane_pb2.XSpace()
    space.ParseFromString(path.read_bytes())
    totals: collections.Counter[str] = collections.Counter()
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name  # "scope/op_name:OpType"
                if ":" in name and not name.startswith("ExecutorState"):
                    totals[name.rsplit(":", 1)[1]] += event.duration_ps / 1e9
    return dict(totals.most_common())


def profile_steps(step, batches: list, logdir: Path) -> dict[str, float]:
    import tensorflow as tf

    tf.profiler.experimental.start(str(logdir))
    for batch in batches:
        step(*batch)
    tf.profiler.experimental.stop()
    return op_time_by_type(logdir)


BF16 = "training copy, bf16"


def _copy_under_policy(cfg, policy: str):
    """The training copy of a fresh model built under Keras dtype ``policy`` (then reset)."""
    import keras

    from sdk.models import build_training_model
    from sdk.train.fused import for_training

    keras.mixed_precision.set_global_policy(policy)
    try:
        return for_training(build_training_model(cfg))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def run_arch(arch: str, data_dir: Path, steps: int, rounds: int, batch_size: int,
             bf16: bool = False) -> dict[str, Any]:
    import keras
    import numpy as np

    from sdk.data import load_dataset
    from sdk.models import build_training_model, default_config
    from sdk.train.batches import BatchStream
    from sdk.train.fused import for_training
    from sdk.train.loop import TrainOptions, make_optimizer, make_train_step

    keras.utils.set_random_seed(0)
    train = load_dataset(data_dir, "train")
    cfg = default_config(arch, train.classes)
    stream = iter(BatchStream(train, cfg, batch_size, seed=0))
    batches = [next(stream) for _ in range(steps)]
    canonical = build_training_model(cfg)
    nets = {"keras": canonical, "training copy": for_training(canonical)}
    if bf16:
        nets[BF16] = _copy_under_policy(cfg, "mixed_bfloat16")
        nets[BF16].set_weights(canonical.get_weights())  # variables stay float32
    fns = {}
    for name, net in nets.items():
        fns[name] = make_train_step(net, make_optimizer(TrainOptions(), 10_000), cfg)
        fns[name](*batches[0])  # trace and warm up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for batch in batches:
                fn(*batch)
            times[name].append((time.perf_counter() - t0) / steps)
    with tempfile.TemporaryDirectory() as tmp:
        ops = {name: profile_steps(fn, batches, Path(tmp) / name.replace(" ", "_"))
               for name, fn in fns.items()}
    step_s = {name: round(median(v), 3) for name, v in times.items()}
    return {"arch": arch, "batch_size": batch_size, "steps": steps, "rounds": rounds,
            "step_seconds": step_s, "rounds_seconds": {k: [round(x, 3) for x in v]
                                                      for k, v in times.items()},
            "speedup": round(step_s["keras"] / step_s["training copy"], 2),
            "op_ms": {k: {op: round(ms, 1) for op, ms in v.items()} for k, v in ops.items()},
            "params": int(np.sum([np.prod(w.shape) for w in canonical.get_weights()]))}


def markdown(rows: list[dict[str, Any]]) -> str:
    """One timing table, then the top op types of each model of each architecture."""
    out = [markdown_table(
        ["arch", "batch", "keras s/step", "training copy s/step", "speed-up"],
        [[r["arch"], r["batch_size"], r["step_seconds"]["keras"],
          r["step_seconds"]["training copy"], f"{r['speedup']:.2f}x"] for r in rows])]
    bf16 = [r for r in rows if BF16 in r["step_seconds"]]
    if bf16:
        out.append("\n" + markdown_table(
            ["arch", "training copy s/step", "bf16 s/step", "bf16 speed-up"],
            [[r["arch"], r["step_seconds"]["training copy"], r["step_seconds"][BF16],
              f"{r['step_seconds']['training copy'] / r['step_seconds'][BF16]:.2f}x"]
             for r in bf16]))
    for r in rows:
        for name, ops in r["op_ms"].items():
            total = sum(ops.values())
            top = list(ops.items())[:TOP_OPS]
            out.append(f"\n{r['arch']}, {name}: op time by type ({r['steps']} steps)\n\n"
                       + markdown_table(["op", "ms", "share"],
                                        [[op, f"{ms:.0f}", f"{100 * ms / total:.1f}%"]
                                         for op, ms in top]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", choices=("fast", "accurate"))
    parser.add_argument("--data", type=Path, default=Path("data/synth"))
    parser.add_argument("--steps", type=int, default=8, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, help="default: the Makefile recipe's")
    parser.add_argument("--bf16", action="store_true",
                        help="also time the training copy under mixed_bfloat16")
    parser.add_argument("--out", type=Path, default=RESULTS / "train_step_profile.json")
    args = parser.parse_args(argv)
    rows = [run_arch(arch, args.data, args.steps, args.rounds,
                     args.batch_size or BATCH_SIZE[arch], args.bf16)
            for arch in args.arch or ["fast"]]
    write_json(args.out, {**report_head("train_step_profile", "tensorflow", "keras"),
                          "rows": rows})
    print(markdown(rows))


if __name__ == "__main__":
    main()
