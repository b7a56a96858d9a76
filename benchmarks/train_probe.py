"""Compare training settings with short runs at equal images seen.

Each variant trains a fresh detector from the same seed on the same data for the same
number of images, on its own cosine schedule, and logs the training loss every
``--log-every`` images; the final validation metrics come last. The loss at equal images
seen is the figure to compare: it separates "learns faster per image" from "costs more per
image" (the seconds column), which is what a fixed CPU training budget trades.

    .venv/bin/python -m benchmarks.train_probe --data data/synth --images 3840 \\
        --variant lr2e-3:lr=2e-3 --variant lr6e-3:lr=6e-3 \\
        --variant bs8:lr=6e-3,batch_size=8 --variant width0.5:alpha=0.5

Variant keys: ``lr``, ``batch_size``, ``alpha`` (backbone width), ``jit`` (1: compile the
train step with XLA). Writes
``benchmarks/results/train_probe.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._common import RESULTS, markdown_table, report_head, write_json

if TYPE_CHECKING:
    from sdk.data import Dataset


@dataclass(frozen=True)
class Variant:
    """One setting to try; unset fields keep the architecture's defaults."""

    name: str
    lr: float = 2e-3
    batch_size: int = 16
    alpha: float | None = None
    jit: bool = False


def parse_variant(text: str) -> Variant:
    """``name:key=value,...`` -> :class:`Variant` (keys: lr, batch_size, alpha, jit)."""
    name, _, body = text.partition(":")
    fields: dict[str, Any] = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition("=")
        if key not in ("lr", "batch_size", "alpha", "jit"):
            raise argparse.ArgumentTypeError(f"variant {name!r}: unknown key {key!r} "
                                             "(expected lr, batch_size, alpha or jit)")
        fields[key] = (int(value) if key == "batch_size" else bool(int(value)) if key == "jit"
                       else float(value))
    if not name:
        raise argparse.ArgumentTypeError(f"variant {text!r} has no name")
    return Variant(name, **fields)


def run_variant(variant: Variant, arch: str, train: Dataset, val: Dataset, images: int,
                log_every: int, seed: int) -> dict[str, Any]:
    """Train one variant for ``images`` images; return its loss curve and val metrics."""
    import keras
    import numpy as np

    from sdk.evaluate import evaluate_net
    from sdk.models import build_training_model, default_config
    from sdk.train.batches import BatchStream
    from sdk.train.fused import for_training
    from sdk.train.loop import TrainOptions, make_optimizer, make_train_step
    from sdk.train.precise_bn import recalibrate_batchnorm

    keras.utils.set_random_seed(seed)
    cfg = default_config(arch, train.classes)
    if variant.alpha is not None:
        cfg = cfg.replace(alpha=variant.alpha)
    net = for_training(build_training_model(cfg))  # what sdk train runs
    steps = max(1, images // variant.batch_size)
    opts = TrainOptions(epochs=1, batch_size=variant.batch_size, learning_rate=variant.lr,
                        warmup_steps=max(1, steps // 5), seed=seed)
    optimizer = make_optimizer(opts, steps)
    batches = iter(BatchStream(train, cfg, variant.batch_size, seed=seed))
    step = make_train_step(net, optimizer, cfg, jit_compile=variant.jit)
    curve, window, t0 = [], [], time.time()
    for i in range(steps):
        window.append(float(step(*next(batches))[0]))
        seen = (i + 1) * variant.batch_size
        if seen // log_every > (seen - variant.batch_size) // log_every or i == steps - 1:
            curve.append({"images": seen, "loss": round(float(np.mean(window)), 4)})
            window = []
    seconds = time.time() - t0
    recalibrate_batchnorm(net, batches)
    return {"variant": variant.name, "lr": variant.lr, "batch_size": variant.batch_size,
            "alpha": cfg.alpha, "jit": variant.jit, "steps": steps,
            "train_seconds": round(seconds, 1), "curve": curve, "val": evaluate_net(net, cfg, val)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fast", choices=("fast", "accurate"))
    parser.add_argument("--data", type=Path, default=Path("data/synth"))
    parser.add_argument("--images", type=int, default=3840, help="images per variant")
    parser.add_argument("--log-every", type=int, default=768, help="images per loss point")
    parser.add_argument("--variant", type=parse_variant, action="append", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "train_probe.json")
    args = parser.parse_args(argv)

    from sdk.data import load_dataset

    train, val = (load_dataset(args.data, split) for split in ("train", "val"))
    rows = [run_variant(v, args.arch, train, val, args.images, args.log_every, args.seed)
            for v in args.variant]
    report = {**report_head("train_probe", "tensorflow", "keras"), "arch": args.arch,
              "data": str(args.data), "images": args.images, "rows": rows}
    write_json(args.out, report)
    print(markdown(rows))


def markdown(rows: list[dict[str, Any]]) -> str:
    """Loss at each logged image count (columns) per variant, then time and val mAP@.5."""
    points = [p["images"] for p in rows[0]["curve"]]
    header = ["variant", *(f"loss @{n}" for n in points), "train s", "val mAP@.5"]
    body = []
    for row in rows:
        losses = {p["images"]: p["loss"] for p in row["curve"]}
        body.append([row["variant"], *(f"{losses[n]:.3f}" if n in losses else "-"
                                       for n in points),
                     f"{row['train_seconds']:.0f}", f"{row['val']['mAP50']:.3f}"])
    return markdown_table(header, body)


if __name__ == "__main__":
    main()
