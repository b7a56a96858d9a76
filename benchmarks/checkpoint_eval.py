"""COCO metrics of a training run's latest checkpoint, while the run is still going.

Evaluates ``RUN/checkpoint/model.weights.h5`` (rebuilt from ``RUN/config.json``) on the
first ``--images`` images of a split, as it is: batch-norm statistics are not re-estimated
(``.ci/bundle-weights.sh`` does that for an interim bundle), so the figures run a little
under those of the finished model. Meant for the trajectory of a long run:

    .venv/bin/python -m benchmarks.checkpoint_eval training/accurate --images 150
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
    from sdk.models.io import CONFIG_FILE, WEIGHTS_FILE
    from sdk.train.loop import Checkpointer

    ckpt, config = Checkpointer(args.run), args.run / CONFIG_FILE
    for path in (config, ckpt.dir / WEIGHTS_FILE):
        if not path.is_file():
            raise SystemExit(f"{path}: missing (is {args.run} a folder written by 'sdk train'?)")
    cfg = DetectorConfig.load(config)
    net = build_training_model(cfg)
    state = ckpt.load_weights(net)  # the state of the very weights loaded, mid-run too
    dataset = load_dataset(args.data, args.split)
    dataset = dataclasses.replace(dataset, samples=dataset.samples[:args.images])
    result = {"epoch": state["epoch"], "loss": round(state["history"][-1]["loss"], 3),
              "images": len(dataset), **evaluate_net(net, cfg, dataset)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
