"""Post-processing cost against model time on images with many candidate boxes.

    python -m benchmarks.postprocess_overhead [--model runs/fast] [--image street.jpg]

Exports the Fast detector at 320 px to fp32 TFLite (trained weights from ``--model``, else
the confident random test model of ``models.py``), then times LiteRT inference and
``sdk.postprocess`` on the image at decreasing score thresholds, so up to
``pre_nms_top_k`` (1000) candidates reach NMS. Prints one row per threshold.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

THRESHOLDS = (0.3, 0.1, 0.05, 0.0)
RUNS = 30


def _median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _export(model_dir: Path | None, out: Path) -> Path:
    """Fast at 320 px -> ``out/tflite`` (trained if ``model_dir``, else the test model)."""
    from sdk.models import build_inference_model, build_training_model, default_config
    from sdk.models.io import load_detector, save_detector
    from tests.runtime import models

    if model_dir is None:
        cfg = default_config("fast", ("circle", "square", "triangle", "star", "hexagon",
                                      "cross"))
        model_dir = save_detector(out / "untrained", build_training_model(cfg), cfg)
        model, cfg = models.confident_fast(model_dir)
    else:
        net, cfg, _ = load_detector(model_dir)
        model = build_inference_model(net, cfg)
    saved = models.export_savedmodel(model, cfg, out / "savedmodel")
    return models.export_tflite(saved, out / "tflite")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="trained detector folder (Fast)")
    parser.add_argument("--image", type=Path, help="probe image (default: a synthetic scene)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import sdk
    from sdk.postprocess import postprocess
    from sdk.preprocess import preprocess
    from sdk.runtime.images import to_rgb

    with tempfile.TemporaryDirectory() as tmp:
        det = sdk.load(_export(args.model, Path(tmp)), num_threads=args.threads)
        if args.image is None:
            from sdk.data.synth import generate

            args.image = sorted((generate(Path(tmp) / "synth", seed=1, train=0, val=0, test=1)
                                 / "test").glob("*.jpg"))[0]
        x, _ = preprocess(to_rgb(args.image), det.spec.input)
        infer_ms = _median_ms(lambda: det.backend.run(x))
        boxes, scores = (a[0] for a in det.backend.run(x))
        print(f"model {det.backend.name}, {det.spec.input.size} px, {len(boxes)} anchors, "
              f"{args.threads} threads: inference median {infer_ms:.2f} ms")
        for thr in THRESHOLDS:
            candidates = int((scores > np.float32(thr)).sum())
            post_ms = _median_ms(lambda t=thr: postprocess(boxes, scores, det.spec.nms, t))
            kept = len(postprocess(boxes, scores, det.spec.nms, thr).scores)
            print(f"threshold {thr:<4}: {candidates:6d} candidates -> {kept:3d} kept, "
                  f"postprocess {post_ms:.2f} ms = {100 * post_ms / infer_ms:.0f}% of inference")


if __name__ == "__main__":
    main()
