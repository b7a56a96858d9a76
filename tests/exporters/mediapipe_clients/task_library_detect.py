"""Detect with the TFLite Task Library's ``ObjectDetector``; a script for the
``.venvs/tflite-support`` venv.

Same arguments and JSON output as ``mediapipe_detect.py``. It imports nothing from the
repository (tflite-support needs protobuf<4).
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

    from tflite_support.task import core, processor, vision

    options = vision.ObjectDetectorOptions(
        base_options=core.BaseOptions(file_name=args.model),
        detection_options=processor.DetectionOptions(score_threshold=args.score_threshold,
                                                     max_results=-1))
    detector = vision.ObjectDetector.create_from_options(options)
    found = []
    for image in np.load(args.images):
        result = detector.detect(vision.TensorImage.create_from_array(np.ascontiguousarray(image)))
        found.append([{
            "label": d.categories[0].category_name,
            "score": float(d.categories[0].score),
            "box": [d.bounding_box.origin_x, d.bounding_box.origin_y,
                    d.bounding_box.origin_x + d.bounding_box.width,
                    d.bounding_box.origin_y + d.bounding_box.height],
        } for d in result.detections])
    json.dump({"version": version("tflite-support"), "detections": found}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
