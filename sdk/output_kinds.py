"""Raw outputs of each ``outputs.kind`` of ``detector.json`` -> detections in the model frame.

* ``canonical``: ``boxes`` [N, 4] + ``scores`` [N, C] -> :func:`sdk.postprocess.postprocess`.
* ``yolo``: one Ultralytics-style tensor -> canonical boxes and scores (:func:`yolo_to_canonical`),
  then the same thresholds and NMS.
* ``detections``: the four post-NMS outputs of ``TFLite_Detection_PostProcess`` -> labels,
  score threshold and ``max_detections`` only (:func:`detections_to_raw`): the model already
  ran its NMS, so ``nms.iou_threshold`` does not apply.

The browser port (``sdk/js/postprocess.js``) mirrors this file; both are checked against the
same golden JSON, so the float32 arithmetic below is spelled out step by step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sdk.postprocess import RawDetections, postprocess
from sdk.spec import NmsSpec, OutputSpec

_HALF = np.float32(0.5)


def yolo_to_canonical(predictions: np.ndarray, outputs: OutputSpec, num_classes: int,
                      input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One image's YOLO tensor (``[4+C, N]`` or ``[N, 4+C]`` per ``outputs.layout``, batch
    dim optional) -> (boxes [N, 4] normalized xyxy, scores [N, C]) float32.

    Every step is one float32 operation (``cx - w * 0.5``, then ``/ width`` for pixel
    units), which the JavaScript port repeats with ``Math.fround``.
    """
    pred = np.asarray(predictions, np.float32)
    pred = pred.reshape(pred.shape[-2:])
    if outputs.layout == "features_first":
        pred = pred.T
    if pred.shape[1] != 4 + num_classes:
        raise ValueError(f"yolo output has {pred.shape[1]} values per box, expected "
                         f"4 + {num_classes} labels (outputs.layout {outputs.layout!r})")
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    half_w, half_h = w * _HALF, h * _HALF
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    if outputs.box_units == "pixels":
        height, width = input_size
        boxes /= np.array([width, height, width, height], np.float32)
    return boxes, np.ascontiguousarray(pred[:, 4:])


def detections_to_raw(locations: np.ndarray, classes: np.ndarray, scores: np.ndarray,
                      num_detections: np.ndarray, outputs: OutputSpec, num_classes: int,
                      score_threshold: float, max_detections: int) -> RawDetections:
    """One image's post-NMS outputs -> detections best first.

    Keeps the first ``num_detections`` rows whose class id minus ``outputs.label_offset``
    is a label index and whose score is ``> score_threshold`` (float32 comparison, as for
    canonical scores); orders them by score (stable) and keeps ``max_detections``. Boxes
    go from ymin, xmin, ymax, xmax to x1, y1, x2, y2.
    """
    locations = np.asarray(locations, np.float32).reshape(-1, 4)
    n = min(int(np.asarray(num_detections).reshape(-1)[0]), len(locations))
    scores = np.asarray(scores, np.float32).reshape(-1)[:n]
    # Class ids arrive as floats (the op's output type): round half up (as the JS port does),
    # never truncate 2.9999 to 2.
    ids = np.floor(np.asarray(classes, np.float64).reshape(-1)[:n] + 0.5).astype(np.int64)
    ids -= outputs.label_offset
    keep = np.flatnonzero((ids >= 0) & (ids < num_classes) & (scores > np.float32(score_threshold)))
    keep = keep[np.argsort(-scores[keep], kind="stable")][:max(max_detections, 0)]
    boxes = locations[keep][:, [1, 0, 3, 2]]
    return RawDetections(np.ascontiguousarray(boxes), scores[keep], ids[keep])


def decode(raw: Sequence[np.ndarray], outputs: OutputSpec, num_classes: int,
           input_size: tuple[int, int], nms: NmsSpec, score_threshold: float | None = None,
           iou_threshold: float | None = None,
           max_detections: int | None = None) -> RawDetections:
    """One image's outputs (batch of one or without the batch dim), in the order of
    ``outputs.tensor_names`` -> final detections in the model frame, best first."""
    if outputs.kind == "detections":
        thr = nms.score_threshold if score_threshold is None else score_threshold
        max_det = nms.max_detections if max_detections is None else max_detections
        return detections_to_raw(*raw, outputs, num_classes, thr, max_det)
    if outputs.kind == "yolo":
        boxes, scores = yolo_to_canonical(raw[0], outputs, num_classes, input_size)
    else:
        boxes, scores = raw
    return postprocess(boxes, scores, nms, score_threshold, iou_threshold, max_detections)
