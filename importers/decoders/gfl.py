"""``gfl``: NanoDet-style heads (Generalized Focal Loss): per-level class scores and a
discrete distribution over distances for each box side.

Ported from RangiLyu/nanodet (Apache-2.0), ``nanodet/model/head/gfl_head.py``:
``GFLHead.get_bboxes`` and ``get_single_level_center_point`` (centres ``(j + 0.5) * stride``),
``Integral.forward`` (softmax over the ``reg_max + 1`` bins, expectation over
``linspace(0, reg_max, reg_max + 1)``, times the stride) and ``nanodet/util/box_transform.py``
``distance2bbox`` (left, top, right, bottom distances from the centre; clamped to the input).
This is the GFL/NanoDet head; NanoDet-Plus (``get_single_level_center_priors``) uses centres
``j * stride`` without the half cell, so its models need another decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from importers.config import Fields
from importers.decoders.base import Decoder, Shape


@dataclass(frozen=True)
class GflLevel:
    """One feature level: its stride and the names of its two output tensors."""

    stride: int
    scores: str  # [1, H*W, C], row-major over (y, x)
    distributions: str  # [1, H*W, 4 * (reg_max + 1)]: left, top, right, bottom bins


class GflDecoder(Decoder):
    """Parameters: ``reg_max`` (bins per side minus one), ``levels`` (a list of ``stride``,
    ``scores`` and ``distributions`` tensor names), ``scores_activated`` (default true: the
    scores are sigmoids already; false applies one), ``clip`` (default true: clamp boxes to
    the input as upstream does)."""

    name = "gfl"
    keys = ("reg_max", "levels", "scores_activated", "clip")

    def parse(self, params: Fields) -> None:
        self.reg_max = params.integer("reg_max", minimum=1)
        self.scores_activated = params.boolean("scores_activated", True)
        self.clip = params.boolean("clip", True)
        self._level_fields = params.objects("levels")
        self.levels = []
        for level in self._level_fields:
            level.only("stride", "scores", "distributions")
            self.levels.append(GflLevel(level.integer("stride", minimum=1),
                                        level.string("scores"), level.string("distributions")))

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return tuple(n for lv in self.levels for n in (lv.scores, lv.distributions))

    def grid(self, stride: int) -> tuple[int, int]:
        """Feature map (height, width) of a level: ``ceil(input / stride)`` as upstream."""
        h, w = self.input_size
        return -(-h // stride), -(-w // stride)

    def centers(self) -> np.ndarray:
        """[N, 2] (x, y) centres in input pixels for every level, row-major per level."""
        out = []
        for level in self.levels:
            fh, fw = self.grid(level.stride)
            y, x = np.meshgrid((np.arange(fh) + 0.5) * level.stride,
                               (np.arange(fw) + 0.5) * level.stride, indexing="ij")
            out.append(np.stack([x.ravel(), y.ravel()], axis=1))
        return np.concatenate(out).astype(np.float32)

    def check(self, shapes: dict[str, Shape]) -> int:
        total = 0
        bins = 4 * (self.reg_max + 1)
        for level, fields in zip(self.levels, self._level_fields, strict=True):
            fh, fw = self.grid(level.stride)
            n = fh * fw
            total += n
            self.expect(shapes, fields, "scores", (None, n, self.num_classes),
                        f"{fh}x{fw} cells at stride {level.stride}, one column per label")
            self.expect(shapes, fields, "distributions", (None, n, bins),
                        f"{fh}x{fw} cells at stride {level.stride}, 4 x (reg_max + 1) bins")
        return total

    def decode(self, outputs: dict[str, Any]) -> tuple[Any, Any]:
        import tensorflow as tf

        h, w = self.input_size
        project = tf.constant(np.arange(self.reg_max + 1, dtype=np.float32))
        distances, scores = [], []
        for level in self.levels:
            logits = tf.cast(outputs[level.distributions], tf.float32)
            fh, fw = self.grid(level.stride)
            n = fh * fw
            bins = tf.nn.softmax(tf.reshape(logits, [-1, n, 4, self.reg_max + 1]), axis=-1)
            # Integral: expectation of the distribution, in units of the stride.
            distances.append(tf.reduce_sum(bins * project, axis=-1) * float(level.stride))
            level_scores = tf.reshape(tf.cast(outputs[level.scores], tf.float32),
                                      [-1, n, self.num_classes])
            scores.append(level_scores if self.scores_activated else tf.sigmoid(level_scores))
        dist = tf.concat(distances, axis=1)  # [B, N, 4]: left, top, right, bottom
        centers = tf.constant(self.centers()[None])  # [1, N, 2]: x, y
        boxes = tf.concat([centers - dist[..., :2], centers + dist[..., 2:]], axis=-1)
        limits = tf.constant([w, h, w, h], tf.float32)
        if self.clip:  # distance2bbox(max_shape=input): clamp to [0, size]
            boxes = tf.clip_by_value(boxes, 0.0, limits)
        return boxes / limits, tf.concat(scores, axis=1)
