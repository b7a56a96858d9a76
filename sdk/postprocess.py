"""The reference post-processing: threshold, class-aware NMS, top-k. Pure numpy.

Input is the two canonical tensors of ``detector.json`` (``boxes`` [N, 4] normalized xyxy,
``scores`` [N, C] activated). The browser port (``sdk/js/postprocess.js``) mirrors this file
and both are tested against the same golden JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdk.spec import NmsSpec


@dataclass(frozen=True)
class RawDetections:
    """Detections in the model frame (normalized xyxy), before undoing the letterbox."""

    boxes: np.ndarray  # [K, 4] float32
    scores: np.ndarray  # [K] float32
    classes: np.ndarray  # [K] int64


def _candidates(scores: np.ndarray, threshold: float, top_k: int) -> tuple[np.ndarray, ...]:
    """(anchor, class, score) of every entry above threshold, best ``top_k`` only."""
    anchor_idx, class_idx = np.nonzero(scores > threshold)
    cand = scores[anchor_idx, class_idx]
    if len(cand) > top_k:
        keep = np.argpartition(-cand, top_k - 1)[:top_k]
        anchor_idx, class_idx, cand = anchor_idx[keep], class_idx[keep], cand[keep]
    order = np.argsort(-cand, kind="stable")
    return anchor_idx[order], class_idx[order], cand[order]


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_out: int) -> np.ndarray:
    """Greedy NMS over score-sorted boxes; returns kept indices (vectorized per kept box)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(-scores, kind="stable")
    b = boxes[order]
    areas = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    alive = np.ones(len(b), bool)
    keep: list[int] = []
    for i in range(len(b)):
        if not alive[i]:
            continue
        keep.append(i)
        if len(keep) == max_out:
            break
        rest = np.nonzero(alive[i + 1:])[0] + i + 1
        tl = np.maximum(b[i, :2], b[rest, :2])
        br = np.minimum(b[i, 2:], b[rest, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        alive[rest[iou > iou_threshold]] = False
    return order[np.asarray(keep, np.int64)]


def postprocess(boxes: np.ndarray, scores: np.ndarray, nms_spec: NmsSpec,
                score_threshold: float | None = None, iou_threshold: float | None = None,
                max_detections: int | None = None) -> RawDetections:
    """Canonical outputs of one image -> final detections, best first.

    Class-aware NMS is done in one pass by offsetting each class's boxes so that boxes of
    different classes never overlap (the batched-NMS trick used by torchvision).
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = np.asarray(scores, np.float32).reshape(len(boxes), -1)
    thr = nms_spec.score_threshold if score_threshold is None else score_threshold
    iou = nms_spec.iou_threshold if iou_threshold is None else iou_threshold
    max_det = nms_spec.max_detections if max_detections is None else max_detections
    a_idx, c_idx, cand = _candidates(scores, thr, nms_spec.pre_nms_top_k)
    cand_boxes = boxes[a_idx]
    if nms_spec.class_agnostic:
        shifted = cand_boxes
    else:
        span = float(np.abs(cand_boxes).max(initial=1.0)) + 1.0
        shifted = cand_boxes + (c_idx.astype(np.float32) * span)[:, None]
    keep = nms(shifted, cand, iou, max_det)
    return RawDetections(cand_boxes[keep], cand[keep], c_idx[keep].astype(np.int64))
