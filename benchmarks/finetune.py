"""Fine-tuning from a bundled model against training from scratch, on classes it never saw.

Generates a small variant of the synthetic dataset whose objects are four *other* shapes
(pentagon, diamond, arrow, half-disc; same scenes, backgrounds and sizes as the bundled
models' data), then trains the same architecture on it twice with identical options:
``sdk train --init fast`` (backbone, features and box head from the bundled model; the
class scores start fresh, none of the labels being known) and from random weights. After
every epoch the run's checkpoint is evaluated on the val split (COCO mAP, as it is:
batch-norm statistics are re-estimated only for the final model, whose figures come last).

    .venv/bin/python -m benchmarks.finetune --epochs 5 --train 600 --val 150

Run folders and the generated data live under ``--work`` (default ``runs/finetune``); a
stopped run continues where it stopped with the same command (the runs resume from their
checkpoints, measured epochs are kept in ``progress.json``). Writes
``benchmarks/results/finetune.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks._common import RESULTS, markdown_table, report_head, write_json  # noqa: E402

NEW_SHAPES = ("pentagon", "diamond", "arrow", "halfdisc")
DATA_SEED = 100  # not the bundled models' seed 0: other scenes too


def _unit_shape(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Vertices of the variant's shapes (circumradius ~1 around the origin)."""
    if kind == "pentagon":
        angles = math.pi / 2 + np.arange(5) * (2 * math.pi / 5)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if kind == "diamond":
        w = rng.uniform(0.45, 0.6)
        return np.array([(0.0, 1.0), (w, 0.0), (0.0, -1.0), (-w, 0.0)])
    if kind == "arrow":
        t, head = rng.uniform(0.18, 0.28), rng.uniform(0.5, 0.65)
        return np.array([(-1.0, -t), (1 - head, -t), (1 - head, -2.2 * t - 0.1), (1.0, 0.0),
                         (1 - head, 2.2 * t + 0.1), (1 - head, t), (-1.0, t)])
    if kind == "halfdisc":
        angles = np.linspace(0, math.pi, 25)
        return np.stack([np.cos(angles), np.sin(angles) - 0.5], axis=1)
    raise ValueError(f"unknown shape {kind!r}; expected one of {NEW_SHAPES}")


@contextlib.contextmanager
def _variant_shapes() -> Iterator[None]:
    """Make the synthetic generator draw :data:`NEW_SHAPES` (in this process only)."""
    from sdk.data import scene, synth

    saved = scene.CLASSES, scene.unit_shape, synth.CLASSES
    scene.CLASSES, scene.unit_shape, synth.CLASSES = NEW_SHAPES, _unit_shape, NEW_SHAPES
    try:
        yield
    finally:
        scene.CLASSES, scene.unit_shape, synth.CLASSES = saved


def make_variant(out: Path, train: int, val: int) -> Path:
    """The variant dataset in ``out`` (COCO layout, splits train/val), generated once."""
    from sdk.data.synth import generate

    if (out / "README.md").is_file():
        return out
    with _variant_shapes():  # one worker: the patch does not reach spawned processes
        return generate(out, seed=DATA_SEED, train=train, val=val, test=0, workers=1)


def _evaluator(cfg, val):
    """A function evaluating a run's latest checkpoint on ``val``."""
    from sdk.evaluate import evaluate_net
    from sdk.models import build_training_model
    from sdk.train.loop import Checkpointer

    net = build_training_model(cfg)

    def evaluate(run: Path) -> dict[str, float]:
        Checkpointer(run).load_weights(net)
        return evaluate_net(net, cfg, val)

    return evaluate


def run(name: str, init: str | None, args: argparse.Namespace, data: Path,
        progress: dict[str, Any], save) -> dict[str, Any]:
    """Train one arm (resuming), evaluating each epoch; returns its curve and final metrics."""
    from sdk.data import load_dataset
    from sdk.models.config import DetectorConfig
    from sdk.models.io import CONFIG_FILE
    from sdk.train.loop import TrainOptions
    from sdk.train.run import train_detector

    out = args.work / name
    arm = progress.setdefault(name, {"curve": {}})
    val = load_dataset(data, "val")
    steps = len(load_dataset(data, "train").samples) // args.batch_size
    opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size,
                        learning_rate=args.lr, warmup_steps=steps, seed=args.seed)
    evaluate = None

    def on_epoch(row: dict[str, Any]) -> None:
        nonlocal evaluate
        if evaluate is None:
            evaluate = _evaluator(DetectorConfig.load(out / CONFIG_FILE), val)
        t0 = time.time()
        metrics = evaluate(out)
        arm["curve"][str(row["epoch"])] = {"loss": round(row["loss"], 4),
                                           "train_seconds": row["seconds"],
                                           "eval_seconds": round(time.time() - t0, 1),
                                           **metrics}
        print(f"{name} epoch {row['epoch']}: loss {row['loss']:.3f} mAP {metrics['mAP']:.3f} "
              f"mAP50 {metrics['mAP50']:.3f} ({row['seconds']:.0f} s)", flush=True)
        save()

    card = train_detector(args.arch if init is None else None, data, out, opts, resume=True,
                          eval_split="val", on_epoch=on_epoch, init=init)
    arm["final"] = card["metrics"]["val"]
    arm["init"] = card.get("init")
    arm["train_seconds"] = card["train_seconds"]
    arm["command"] = " ".join(
        ["sdk train", *(["--init", init] if init else ["--arch", args.arch]),
         "--data", str(data), "--out", str(out), "--epochs", str(args.epochs),
         "--batch-size", str(args.batch_size), "--lr", str(args.lr), "--seed", str(args.seed)])
    save()
    return arm


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", default="fast", help="model to fine-tune from")
    parser.add_argument("--arch", default="fast", help="architecture trained from scratch")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train", type=int, default=600, help="training images to generate")
    parser.add_argument("--val", type=int, default=150, help="val images to generate")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=4e-3, help="peak learning rate (both arms)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("runs/finetune"))
    parser.add_argument("--out", type=Path, default=RESULTS / "finetune.json")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    data = make_variant(args.work / "data", args.train, args.val)
    progress_file = args.work / "progress.json"
    progress = json.loads(progress_file.read_text()) if progress_file.is_file() else {}

    def save() -> None:
        write_json(progress_file, progress)

    arms = {"finetune": args.init, "scratch": None}
    results = {name: run(name, init, args, data, progress, save) for name, init in arms.items()}
    report = {**report_head("finetune", "tensorflow", "keras"),
              "data": {"path": str(data), "classes": list(NEW_SHAPES), "seed": DATA_SEED,
                       "train": args.train, "val": args.val},
              "options": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                          "warmup_steps": "one epoch", "seed": args.seed},
              "arms": results}
    write_json(args.out, report)
    print(markdown(report))
    return report


def markdown(report: dict[str, Any]) -> str:
    """val mAP (and mAP@.5) per epoch for each arm, then the final (precise-BN) model."""
    epochs = report["options"]["epochs"]
    rows = []
    for name, arm in report["arms"].items():
        cells = [f"{arm['curve'][str(e)]['mAP']:.3f} / {arm['curve'][str(e)]['mAP50']:.3f}"
                 if str(e) in arm["curve"] else "" for e in range(1, epochs + 1)]
        rows.append([name, *cells, f"{arm['final']['mAP']:.3f} / {arm['final']['mAP50']:.3f}",
                     f"{arm['train_seconds']:.0f}"])
    return markdown_table(["arm", *(f"epoch {e}" for e in range(1, epochs + 1)), "final",
                           "train s"], rows)


if __name__ == "__main__":
    main()
