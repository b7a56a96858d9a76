"""Detect with MediaPipe Tasks' ``ObjectDetector``; a script for the ``.venvs/mediapipe`` venv.

``python mediapipe_detect.py MODEL IMAGES.npy --score-threshold T`` prints JSON:
``{"version": ..., "detections": [[{"label", "score", "box": [x1, y1, x2, y2]}, ...], ...]}``,
one list per image of the ``[K, H, W, 3]`` uint8 RGB array, boxes in pixels.
It imports nothing from the repository (mediapipe's pins are not the SDK's).
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("images")
    parser.add_argument("--score-threshold", type=float, required=True)
    args = parser.parse_args()

    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.ObjectDetectorOptions(
        base_options=BaseOptions(model_asset_path=args.model),
        score_threshold=args.score_threshold, max_results=-1)
    found = []
    # `with`: without close(), the detector's __del__ fails at interpreter exit.
    with vision.ObjectDetector.create_from_options(options) as detector:
        for image in np.load(args.images):
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
            found.append([{
                "label": d.categories[0].category_name,  # Category.index is None here
                "score": float(d.categories[0].score),
                "box": [d.bounding_box.origin_x, d.bounding_box.origin_y,
                        d.bounding_box.origin_x + d.bounding_box.width,
                        d.bounding_box.origin_y + d.bounding_box.height],
            } for d in detector.detect(frame).detections])
    json.dump({"version": version("mediapipe"), "detections": found}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
