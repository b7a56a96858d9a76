"""Anchor generator, box coder and argmax matcher shared by both detectors.

Pure numpy: used to build training targets and baked as constants into the export graph.
Anchors and boxes are normalized xyxy in the model input frame; the coder uses the
center-size encoding of Huang et al. (SSD/Faster R-CNN) with scales (10, 10, 5, 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdk.boxes import iou_matrix

BOX_CODER_SCALES = (10.0, 10.0, 5.0, 5.0)  # (ty, tx, th, tw) as in the TF OD API


@dataclass(frozen=True)
class AnchorLevel:
    """Anchors of one feature map: a grid of ``stride``-spaced centres."""

    stride: int
    size: float  # base anchor side in input pixels
    scales: tuple[float, ...] = (1.0,)
    ratios: tuple[float, ...] = (1.0, 2.0, 0.5)

    @property
    def per_cell(self) -> int:
        return len(self.scales) * len(self.ratios)


def level_anchors(level: AnchorLevel, input_hw: tuple[int, int]) -> np.ndarray:
    """Anchors of one level, [H*W*A, 4] normalized xyxy, row-major over (y, x, anchor)."""
    in_h, in_w = input_hw
    fh, fw = -(-in_h // level.stride), -(-in_w // level.stride)
    cy = (np.arange(fh, dtype=np.float64) + 0.5) / fh
    cx = (np.arange(fw, dtype=np.float64) + 0.5) / fw
    wh = np.array([
        (level.size * s * np.sqrt(r) / in_w, level.size * s / np.sqrt(r) / in_h)
        for s in level.scales for r in level.ratios
    ])
    cyy, cxx = np.meshgrid(cy, cx, indexing="ij")
    centres = np.stack([cxx, cyy], -1).reshape(-1, 1, 2)
    half = wh.reshape(1, -1, 2) / 2
    anchors = np.concatenate([centres - half, centres + half], -1)
    return anchors.reshape(-1, 4).astype(np.float32)


def generate_anchors(levels: tuple[AnchorLevel, ...], input_hw: tuple[int, int]) -> np.ndarray:
    """All anchors, levels concatenated in order, [N, 4] normalized xyxy."""
    return np.concatenate([level_anchors(lv, input_hw) for lv in levels], 0)


def _to_center(boxes: np.ndarray) -> tuple[np.ndarray, ...]:
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + w / 2, boxes[..., 1] + h / 2, w, h


def encode(boxes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Ground-truth xyxy boxes matched to anchors -> regression targets (ty, tx, th, tw)."""
    eps = 1e-8
    xa, ya, wa, ha = _to_center(anchors)
    x, y, w, h = _to_center(boxes)
    sy, sx, sh, sw = BOX_CODER_SCALES
    ty = (y - ya) / (ha + eps) * sy
    tx = (x - xa) / (wa + eps) * sx
    th = np.log((h + eps) / (ha + eps)) * sh
    tw = np.log((w + eps) / (wa + eps)) * sw
    return np.stack([ty, tx, th, tw], -1).astype(np.float32)


def decode(codes: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Regression codes (ty, tx, th, tw) -> xyxy boxes. Mirror of the in-graph decoder."""
    xa, ya, wa, ha = _to_center(anchors)
    sy, sx, sh, sw = BOX_CODER_SCALES
    y = codes[..., 0] / sy * ha + ya
    x = codes[..., 1] / sx * wa + xa
    h = np.exp(codes[..., 2] / sh) * ha
    w = np.exp(codes[..., 3] / sw) * wa
    return np.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], -1)


@dataclass(frozen=True)
class Matcher:
    """Argmax matcher: IoU >= positive -> object, < negative -> background, between -> ignored.

    Every ground-truth box is also forced onto its best anchor so that tiny objects,
    which overlap no anchor well, still get trained.
    """

    positive: float = 0.5
    negative: float = 0.4

    def match(self, anchors: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
        """Per-anchor index of the matched gt box; -1 background, -2 ignored."""
        n = len(anchors)
        if len(gt_boxes) == 0:
            return np.full(n, -1, np.int64)
        iou = iou_matrix(anchors, gt_boxes)
        best_gt = iou.argmax(1)
        best_iou = iou[np.arange(n), best_gt]
        matches = np.where(best_iou >= self.positive, best_gt, -2)
        matches[best_iou < self.negative] = -1
        forced = iou.argmax(0)  # best anchor per gt
        matches[forced] = np.arange(len(gt_boxes))
        return matches.astype(np.int64)


def build_targets(anchors: np.ndarray, matcher: Matcher, gt_boxes: np.ndarray,
                  gt_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training targets for one image.

    Returns:
        (box_targets [N, 4] float32, class_targets [N] int32) where class is the label
        index for positives, -1 for background and -2 for ignored anchors.
    """
    matches = matcher.match(anchors, gt_boxes)
    cls = np.where(matches >= 0, gt_labels[np.clip(matches, 0, None)] if len(gt_labels) else 0,
                   matches).astype(np.int32)
    boxes = np.zeros((len(anchors), 4), np.float32)
    pos = matches >= 0
    if pos.any():
        boxes[pos] = encode(gt_boxes[matches[pos]], anchors[pos])
    return boxes, cls
