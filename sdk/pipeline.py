"""The one post-model pipeline: model outputs -> thresholds + NMS -> original pixels.

COCO evaluation (:mod:`sdk.evaluate`) and the exporters' reference detections go through
:func:`to_pixels`; the runtime (:mod:`sdk.runtime.detector`) goes through
:func:`outputs_to_pixels`, which decodes any ``outputs.kind`` and runs the same
post-processing (bit for bit on canonical outputs), so a difference between them is a
difference in the model, never in post-processing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sdk.output_kinds import decode
from sdk.postprocess import postprocess
from sdk.preprocess import Letterbox, preprocess, unletterbox_boxes
from sdk.runtime.detection import Detections
from sdk.spec import DetectorSpec, InputSpec, NmsSpec

# A batch of preprocessed inputs [B, H, W, 3] -> (boxes [B, N, 4], scores [B, N, C]).
Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def to_pixels(boxes: np.ndarray, scores: np.ndarray, geometry: Letterbox, nms: NmsSpec,
              score_threshold: float | None = None, iou_threshold: float | None = None,
              max_detections: int | None = None) -> Detections:
    """One image's canonical outputs (``[N, 4]``, ``[N, C]``) -> detections in its pixels."""
    raw = postprocess(boxes, scores, nms, score_threshold, iou_threshold, max_detections)
    return Detections(unletterbox_boxes(raw.boxes, geometry), raw.scores, raw.classes)


def outputs_to_pixels(outputs: Sequence[np.ndarray], spec: DetectorSpec, geometry: Letterbox,
                      score_threshold: float | None = None,
                      iou_threshold: float | None = None,
                      max_detections: int | None = None) -> Detections:
    """One image's outputs of any ``spec.outputs.kind`` (batch of one, in the order of
    ``spec.outputs.tensor_names``) -> detections in its pixels."""
    raw = decode(outputs, spec.outputs, spec.num_classes, spec.input.size, spec.nms,
                 score_threshold, iou_threshold, max_detections)
    return Detections(unletterbox_boxes(raw.boxes, geometry), raw.scores, raw.classes)


def detect_image(predict: Predict, image: np.ndarray, input_spec: InputSpec,
                 nms: NmsSpec) -> Detections:
    """Preprocess one HxWx3 uint8 RGB image, run ``predict`` and post-process."""
    inputs, geometry = preprocess(image, input_spec)
    boxes, scores = predict(inputs)
    return to_pixels(boxes[0], scores[0], geometry, nms)


def as_dicts(found: Detections, labels: Sequence[str]) -> list[dict[str, Any]]:
    """``{"box": [x1, y1, x2, y2], "label", "score"}`` per detection (the JSON form used by
    ``reference.json`` and the benchmark fingerprint)."""
    return [{"box": [float(v) for v in b], "label": labels[int(c)], "score": float(s)}
            for b, s, c in zip(found.boxes, found.scores, found.classes, strict=True)]
