"""``yolo``: one Ultralytics-style tensor ``[1, 4+C, N]`` or ``[1, N, 4+C]``.

The same semantics as :func:`sdk.output_kinds.yolo_to_canonical` (cx, cy, w, h then C
class scores; boxes in input pixels or normalized), as TensorFlow ops baked into the graph.
"""

from __future__ import annotations

from typing import Any

from importers.config import Fields
from importers.decoders.base import Decoder, Shape
from sdk.spec import YOLO_BOX_UNITS, YOLO_LAYOUTS


class YoloDecoder(Decoder):
    """Parameters: ``predictions`` (tensor name), ``layout`` ``features_first`` ([1, 4+C, N])
    or ``anchors_first`` ([1, N, 4+C]), ``box_units`` ``pixels`` or ``normalized``,
    ``scores_activated`` (default true; false applies a sigmoid)."""

    name = "yolo"
    keys = ("predictions", "layout", "box_units", "scores_activated")

    def parse(self, params: Fields) -> None:
        self.predictions = params.string("predictions")
        self.layout = params.choice("layout", YOLO_LAYOUTS)
        self.box_units = params.choice("box_units", YOLO_BOX_UNITS)
        self.scores_activated = params.boolean("scores_activated", True)

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return (self.predictions,)

    def check(self, shapes: dict[str, Shape]) -> int:
        shape = shapes[self.predictions]
        features = 4 + self.num_classes
        if self.layout == "features_first":
            n = shape[2] if len(shape) == 3 else None
            self.expect(shapes, self.params, "predictions", (None, features, n),
                        f"[1, 4+C, N] with layout features_first and {self.num_classes} labels")
        else:
            n = shape[1] if len(shape) == 3 else None
            self.expect(shapes, self.params, "predictions", (None, n, features),
                        f"[1, N, 4+C] with layout anchors_first and {self.num_classes} labels")
        return n or 0

    def decode(self, outputs: dict[str, Any]) -> tuple[Any, Any]:
        import tensorflow as tf

        pred = tf.cast(outputs[self.predictions], tf.float32)
        if self.layout == "features_first":
            pred = tf.transpose(pred, [0, 2, 1])
        cx, cy, w, h = (pred[..., i] for i in range(4))
        boxes = tf.stack([cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5], axis=-1)
        if self.box_units == "pixels":
            in_h, in_w = self.input_size
            boxes = boxes / tf.constant([in_w, in_h, in_w, in_h], tf.float32)
        scores = pred[..., 4:]
        return boxes, scores if self.scores_activated else tf.sigmoid(scores)
