"""``canonical``: the source already outputs decoded boxes and activated scores."""

from __future__ import annotations

from typing import Any

from importers.config import Fields
from importers.decoders.base import Decoder, Shape


class CanonicalDecoder(Decoder):
    """Passthrough, with the box order and units the source uses.

    Parameters: ``boxes``, ``scores`` (tensor names), ``box_order`` ``xyxy`` (default) or
    ``yxyx``, ``box_units`` ``normalized`` (default) or ``pixels``.
    """

    name = "canonical"
    keys = ("boxes", "scores", "box_order", "box_units")

    def parse(self, params: Fields) -> None:
        self.boxes, self.scores = params.string("boxes"), params.string("scores")
        self.box_order = params.choice("box_order", ("xyxy", "yxyx"), "xyxy")
        self.box_units = params.choice("box_units", ("normalized", "pixels"), "normalized")

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return (self.boxes, self.scores)

    def check(self, shapes: dict[str, Shape]) -> int:
        n = shapes[self.boxes][1] if len(shapes[self.boxes]) == 3 else None
        self.expect(shapes, self.params, "boxes", (None, n, 4), "[1, N, 4] boxes")
        self.expect(shapes, self.params, "scores", (None, n, self.num_classes),
                    "[1, N, C] scores, one column per label")
        return n or 0

    def decode(self, outputs: dict[str, Any]) -> tuple[Any, Any]:
        import tensorflow as tf

        boxes = tf.cast(outputs[self.boxes], tf.float32)
        if self.box_order == "yxyx":
            boxes = tf.gather(boxes, [1, 0, 3, 2], axis=-1)
        if self.box_units == "pixels":
            h, w = self.input_size
            boxes = boxes / tf.constant([w, h, w, h], tf.float32)
        return boxes, tf.cast(outputs[self.scores], tf.float32)
