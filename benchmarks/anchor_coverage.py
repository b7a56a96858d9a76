"""How well each detector's anchors cover a dataset's boxes, per COCO size bucket.

For every ground-truth box (letterboxed into the model input, no augmentation): the best
IoU with any anchor, and how many anchors the training matcher makes positive for it.
A bucket whose boxes mostly peak under the matcher's positive IoU is one the detector
can only learn through the matcher's single forced anchor per box; a weak bucket with
good coverage is a training, not a design, problem. Reads only the configs: no TensorFlow.

    .venv/bin/python -m benchmarks.anchor_coverage --data data/synth --split val \\
        --models training/fast training/accurate
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks._common import markdown_table, write_json
from sdk.anchors import Matcher, generate_anchors
from sdk.boxes import iou_matrix
from sdk.data import Dataset, load_dataset
from sdk.data.stats import BUCKETS, size_buckets
from sdk.models.config import DetectorConfig
from sdk.models.io import CONFIG_FILE, ModelNotFoundError, resolve_model_dir
from sdk.preprocess import fit, letterbox_boxes


def coverage(cfg: DetectorConfig, dataset: Dataset) -> dict[str, dict[str, float]]:
    """Per size bucket: boxes, mean best anchor IoU, share of boxes whose best IoU is
    under the positive threshold, mean and minimum positive anchors per box."""
    anchors = generate_anchors(cfg.levels, cfg.input_size)
    matcher = Matcher(cfg.matcher_positive, cfg.matcher_negative)
    best, positives, buckets = [], [], []
    for sample in dataset.samples:
        if not len(sample.boxes):
            continue
        boxes = letterbox_boxes(sample.boxes, fit(sample.width, sample.height, cfg.input_spec))
        best.append(iou_matrix(anchors, boxes).max(0))
        positives.append(np.bincount(np.maximum(matcher.match(anchors, boxes), -1) + 1,
                                     minlength=len(boxes) + 1)[1:])
        b = sample.boxes
        buckets.append(size_buckets((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
    best, positives, buckets = map(np.concatenate, (best, positives, buckets))
    rows = {}
    for i, name in enumerate(BUCKETS):
        sel = buckets == i
        if sel.any():
            rows[name] = {"boxes": int(sel.sum()),
                          "best_iou_mean": round(float(best[sel].mean()), 3),
                          "below_positive": round(float((best[sel] < cfg.matcher_positive)
                                                        .mean()), 3),
                          "positives_mean": round(float(positives[sel].mean()), 2),
                          "positives_min": int(positives[sel].min())}
    return rows


def load_config(model: str) -> DetectorConfig:
    """Config of a bundled model name or of a folder with a ``config.json`` (a finished or
    still-running ``sdk train`` run: anchors need no weights)."""
    try:
        path = resolve_model_dir(model, required=(CONFIG_FILE,))
    except ModelNotFoundError:
        raise SystemExit(f"{model}: no {CONFIG_FILE} (pass 'fast', 'accurate' or an 'sdk train' "
                         "folder)") from None
    return DetectorConfig.load(path / CONFIG_FILE)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/synth")
    parser.add_argument("--split", default="val")
    parser.add_argument("--models", nargs="+", default=["fast", "accurate"])
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)

    dataset = load_dataset(args.data, args.split)
    report = {"split": f"{args.data}/{args.split} ({len(dataset)} images)", "models": {}}
    table = []
    for model in args.models:
        cfg = load_config(model)
        report["models"][model] = rows = coverage(cfg, dataset)
        table += [(model, bucket, *row.values()) for bucket, row in rows.items()]
    write_json(Path(args.out) / "anchor_coverage.json", report)
    print(markdown_table(("model", "bucket", "boxes", "best IoU (mean)", "best IoU < positive",
                          "positive anchors (mean)", "positive anchors (min)"), table))
    return report


if __name__ == "__main__":
    main()
