"""The reference post-processing: threshold, class-aware NMS, top-k. Pure numpy.

Input is the two canonical tensors of ``detector.json`` (``boxes`` [N, 4] normalized xyxy,
``scores`` [N, C] activated). The browser port (``sdk/js/postprocess.js``) mirrors this file
and both are tested against the same golden JSON, so every ordering rule here is exact:

* candidates are entries with ``score > threshold`` (compared in float32, as numpy does
  with a float32 array and a Python float), ordered by score descending, ties by flat index
  ``anchor * C + class`` ascending; the best ``pre_nms_top_k`` are kept;
* NMS is greedy in that order; a box is suppressed by a kept box of the same class (any
  class when ``class_agnostic``) whose IoU, computed in float64, is ``> iou_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdk.spec import NmsSpec

# Greedy NMS is resolved this many candidates at a time: big enough that numpy's per-call
# overhead is amortised, small enough that the in-block IoU matrix stays cheap. Up to
# 2 * _BLOCK candidates (the usual count at a 0.3 score threshold) form a single block: one
# IoU matrix instead of three, ~1.5x faster at 80 candidates; beyond that the quadratic
# matrix costs more than the blocks save.
_BLOCK = 64
_UPPER = np.triu(np.ones((2 * _BLOCK, 2 * _BLOCK), bool), 1)  # i < j: only earlier suppress


@dataclass(frozen=True)
class RawDetections:
    """Detections in the model frame (normalized xyxy), before undoing the letterbox."""

    boxes: np.ndarray  # [K, 4] float32
    scores: np.ndarray  # [K] float32
    classes: np.ndarray  # [K] int64


def _candidates(scores: np.ndarray, threshold: float, top_k: int) -> tuple[np.ndarray, ...]:
    """(anchor, class, score) of the best ``top_k`` entries above threshold, best first."""
    flat = scores.ravel()
    idx = np.flatnonzero(flat > np.float32(threshold))
    cand = flat[idx]
    if len(cand) > top_k > 0:  # top_k <= 0 means no cap
        # Partition instead of sorting everything; ties at the cut are taken in index
        # order so the result equals "stable sort, then take top_k" (what the JS port does).
        kth = np.partition(cand, len(cand) - top_k)[len(cand) - top_k]
        above = np.flatnonzero(cand > kth)
        ties = np.flatnonzero(cand == kth)[: top_k - len(above)]
        keep = np.sort(np.concatenate([above, ties]))
        idx, cand = idx[keep], cand[keep]
    order = np.argsort(-cand, kind="stable")
    idx = idx[order]
    return idx // scores.shape[1], idx % scores.shape[1], cand[order]


class _Candidates:
    """Sorted candidate boxes as float64 columns, so pairwise IoU needs no slicing copies."""

    def __init__(self, boxes: np.ndarray, classes: np.ndarray | None):
        # float64 like JavaScript numbers: the JS port reaches the same IoU bit for bit.
        self.x1, self.y1, self.x2, self.y2 = np.asarray(boxes, np.float64).reshape(-1, 4).T
        self.area = np.maximum(self.x2 - self.x1, 0.0) * np.maximum(self.y2 - self.y1, 0.0)
        self.classes = classes

    def overlaps(self, rows: np.ndarray, cols: np.ndarray, iou_threshold: float) -> np.ndarray:
        """[len(rows), len(cols)] bool: IoU > threshold (and same class when class-aware)."""
        w = (np.minimum(self.x2[rows, None], self.x2[cols])
             - np.maximum(self.x1[rows, None], self.x1[cols]))
        h = (np.minimum(self.y2[rows, None], self.y2[cols])
             - np.maximum(self.y1[rows, None], self.y1[cols]))
        inter = np.maximum(w, 0.0) * np.maximum(h, 0.0)
        union = self.area[rows, None] + self.area[cols] - inter
        over = inter / np.maximum(union, 1e-12) > iou_threshold
        if self.classes is not None:
            over &= self.classes[rows, None] == self.classes[cols]
        return over


def _resolve_block(over: np.ndarray) -> np.ndarray:
    """Greedy keep-mask of one block from its overlap matrix (only i < j entries are used).

    Greedy NMS is the unique fixpoint of ``keep[j] = not any(keep[i] and over[i, j], i < j)``
    (position j depends only on earlier ones); iterating from all-True fixes at least one
    more position per pass and usually converges in two or three.
    """
    over = over & _UPPER[: len(over), : len(over)]
    keep = np.ones(len(over), bool)
    while True:
        new = ~(over & keep[:, None]).any(axis=0)
        if np.array_equal(new, keep):
            return keep
        keep = new


def greedy_nms(boxes: np.ndarray, iou_threshold: float, max_out: int,
               classes: np.ndarray | None = None) -> np.ndarray:
    """Greedy NMS over boxes already sorted best first; returns kept indices in order.

    Exact greedy semantics, computed a block of candidates at a time: drop the block's boxes
    that a box kept so far suppresses, then resolve the rest of the block among themselves.
    Candidates after the ``max_out``-th kept box are never looked at, so the cost follows
    the boxes kept, not the candidates (the dense-scene case that makes NMS slow).
    """
    table = _Candidates(boxes, classes)
    keep = np.zeros(0, np.int64)
    n = len(table.area)
    size = n if n <= 2 * _BLOCK else _BLOCK
    for start in range(0, n, max(size, 1)):
        block = np.arange(start, min(start + size, n))
        if len(keep):
            block = block[~table.overlaps(keep, block, iou_threshold).any(axis=0)]
        if len(block) == 0:
            continue
        kept = block[_resolve_block(table.overlaps(block, block, iou_threshold))]
        keep = np.concatenate([keep, kept])
        if len(keep) >= max_out:
            return keep[:max_out]
    return keep


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_out: int) -> np.ndarray:
    """Class-agnostic greedy NMS; returns kept indices, best score first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    return order[greedy_nms(np.asarray(boxes)[order], iou_threshold, max_out)]


def postprocess(boxes: np.ndarray, scores: np.ndarray, nms_spec: NmsSpec,
                score_threshold: float | None = None, iou_threshold: float | None = None,
                max_detections: int | None = None) -> RawDetections:
    """Canonical outputs of one image -> final detections, best first.

    Class-aware NMS is one pass over all classes: boxes of different classes never
    suppress each other (the class test is part of the overlap mask).
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = np.asarray(scores, np.float32).reshape(len(boxes), -1)
    thr = nms_spec.score_threshold if score_threshold is None else score_threshold
    iou = nms_spec.iou_threshold if iou_threshold is None else iou_threshold
    max_det = nms_spec.max_detections if max_detections is None else max_detections
    a_idx, c_idx, cand = _candidates(scores, thr, nms_spec.pre_nms_top_k)
    cand_boxes = boxes[a_idx]
    classes = None if nms_spec.class_agnostic else c_idx
    keep = greedy_nms(cand_boxes, iou, max_det, classes)
    return RawDetections(cand_boxes[keep], cand[keep], c_idx[keep].astype(np.int64))
