"""What a faster, inexact resize would cost in accuracy: ΔmAP of Pillow's reduce-first resize.

``sdk.preprocess`` resizes with Pillow's antialiased bilinear filter, bit for bit what
training, evaluation, calibration and the browser port use; it is most of ``detect()``'s
fixed cost on a camera frame. Pillow's ``reducing_gap=1.0`` first shrinks by a whole factor
with a box filter, then resizes bilinearly: several times faster on large frames, but other
pixels. This evaluates each export on the val split with both resizes, every image first
upscaled by ``--upscale`` (so the frames are camera-sized and the shortcut engages; at the
val images' own size it mostly does not), with COCO mAP as ``sdk eval`` computes it.

    .venv/bin/python -m benchmarks.resize_shortcut exports/fast-tflite-fp32 \\
        exports/fast-tflite-int8 --data data/synth --upscale 2

Prints one line per export (mAP of each resize and the ΔmAP in points) and writes
``benchmarks/results/resize_shortcut.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import RESULTS, report_head, write_json


@contextlib.contextmanager
def reduce_first_resize() -> Iterator[None]:
    """Swap ``sdk.preprocess``'s resize for the reduce-first one (this process only)."""
    from PIL import Image

    import sdk.preprocess as pp

    exact = pp._resized

    def reduced(image: np.ndarray, spec: Any, box: Any) -> np.ndarray:
        h, w = image.shape[:2]
        size = ((box.input_w, box.input_h) if spec.resize == "stretch"
                else (round(w * box.scale_x), round(h * box.scale_y)))
        if size == (w, h):
            return image
        return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR, reducing_gap=1.0))

    pp._resized = reduced
    try:
        yield
    finally:
        pp._resized = exact


def evaluate(export: Path, frames: list[np.ndarray], dataset: Any) -> dict[str, float]:
    """COCO metrics of ``export`` on the upscaled ``frames``, boxes mapped back to the
    original image size."""
    import sdk
    from sdk.evaluate import EVAL_NMS, ImageDetections, coco_metrics
    from sdk.pipeline import to_pixels
    from sdk.preprocess import preprocess

    detector = sdk.load(export, num_threads=1)
    found = []
    for sample, frame in zip(dataset.samples, frames, strict=True):
        x, geometry = preprocess(frame, detector.spec.input)
        boxes, scores = detector.backend.run(x)
        out = to_pixels(boxes[0], scores[0], geometry, EVAL_NMS)
        back = np.float32(frame.shape[1] / sample.width)
        found.append(ImageDetections(sample.image_id, out.boxes / back, out.scores, out.classes))
    return coco_metrics(dataset, found)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", type=Path, nargs="+", help="export folders (sdk.load-able)")
    parser.add_argument("--data", type=Path, default=Path("data/synth"))
    parser.add_argument("--split", default="val")
    parser.add_argument("--upscale", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "resize_shortcut.json")
    args = parser.parse_args(argv)

    from PIL import Image

    from sdk.data import load_dataset, load_image

    dataset = load_dataset(args.data, args.split)
    frames = []
    for sample in dataset.samples:
        image = Image.fromarray(load_image(sample.image_path))
        size = (round(image.width * args.upscale), round(image.height * args.upscale))
        frames.append(np.asarray(image.resize(size, Image.BILINEAR)))
    rows = []
    for export in args.exports:
        t0 = time.time()
        exact = evaluate(export, frames, dataset)
        with reduce_first_resize():
            shortcut = evaluate(export, frames, dataset)
        row = {"export": str(export), "exact_mAP": exact["mAP"], "reduce_first_mAP":
               shortcut["mAP"], "delta_mAP_points": round(100 * (shortcut["mAP"] - exact["mAP"]),
                                                          2), "seconds": round(time.time() - t0)}
        print(row, flush=True)
        rows.append(row)
    report = {**report_head("resize_shortcut", "pillow", "ai-edge-litert"),
              "data": {"path": str(args.data), "split": args.split, "images": len(frames),
                       "upscale": args.upscale}, "rows": rows}
    write_json(args.out, report)
    return report


if __name__ == "__main__":
    main()
