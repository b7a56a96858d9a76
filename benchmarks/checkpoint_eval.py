"""COCO metrics of a training run's latest checkpoint, while the run is still going.

Evaluates ``RUN/checkpoint/model.weights.h5`` (rebuilt from ``RUN/config.json``) on the
first ``--images`` images of a split, as it is: batch-norm statistics are not re-estimated
(``.ci/bundle-weights.sh`` does that for an interim bundle), so the figures run a little
under those of the finished model. Meant for the trajectory of a long run:

    .venv/bin/python benchmarks/checkpoint_eval.py training/accurate --images 150
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as-is
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _load_consistent(net, checkpoint: Path) -> dict:
    """Load the checkpoint's weights into ``net`` and return the state of *those* weights.

    A running training replaces the checkpoint folder after every epoch, possibly between
    reading its state and its weights, so the epoch is read before and after the load and
    the load repeated until both agree."""
    for _ in range(3):
        before = (checkpoint / "state.json").read_text()
        net.load_weights(checkpoint / "model.weights.h5")
        if (checkpoint / "state.json").read_text() == before:
            return json.loads(before)
    raise SystemExit(f"{checkpoint}: rewritten during every load attempt; try again")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="an 'sdk train --out' folder")
    parser.add_argument("--data", default="data/synth")
    parser.add_argument("--split", default="val")
    parser.add_argument("--images", type=int, default=None, help="first N images (default all)")
    args = parser.parse_args(argv)

    from sdk.data import load_dataset
    from sdk.evaluate import evaluate_net
    from sdk.models import build_training_model
    from sdk.models.config import DetectorConfig

    weights, config = args.run / "checkpoint" / "model.weights.h5", args.run / "config.json"
    for path in (config, weights):
        if not path.is_file():
            raise SystemExit(f"{path}: missing (is {args.run} a folder written by 'sdk train'?)")
    cfg = DetectorConfig.load(config)
    net = build_training_model(cfg)
    state = _load_consistent(net, args.run / "checkpoint")
    dataset = load_dataset(args.data, args.split)
    dataset = dataclasses.replace(dataset, samples=dataset.samples[:args.images])
    result = {"epoch": state["epoch"], "loss": round(state["history"][-1]["loss"], 3),
              "images": len(dataset), **evaluate_net(net, cfg, dataset)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
