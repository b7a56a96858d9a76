"""``ssd``: box encodings relative to anchors (TF Object Detection API SSD, Model Maker).

The Faster R-CNN box coder of the TF OD API (``faster_rcnn_box_coder.py``) and of the
``TFLite_Detection_PostProcess`` op: with anchors (ya, xa, ha, wa) and encodings
(ty, tx, th, tw), ``yc = ty / y_scale * ha + ya``, ``xc = tx / x_scale * wa + xa``,
``h = exp(th / h_scale) * ha``, ``w = exp(tw / w_scale) * wa``. Anchors come from a grid
configuration (``levels``) or from a file of [N, 4] (y_center, x_center, h, w), normalized.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from importers.config import Fields
from importers.decoders.base import Decoder, Shape

ACTIVATIONS = ("none", "sigmoid", "softmax")


def grid_anchors(levels: list[tuple[int, tuple[float, ...], tuple[float, ...]]],
                 input_size: tuple[int, int], offset: float = 0.5) -> np.ndarray:
    """Anchors [N, 4] (y_center, x_center, h, w) normalized, row-major over (level, y, x,
    size, aspect ratio); sizes in input pixels, ratio = width / height."""
    in_h, in_w = input_size
    out = []
    for stride, sizes, ratios in levels:
        fh, fw = -(-in_h // stride), -(-in_w // stride)
        shapes = np.array([(size / np.sqrt(r) / in_h, size * np.sqrt(r) / in_w)
                           for size in sizes for r in ratios])  # (h, w) per anchor of a cell
        cy, cx = np.meshgrid((np.arange(fh) + offset) * stride / in_h,
                             (np.arange(fw) + offset) * stride / in_w, indexing="ij")
        centres = np.stack([cy.ravel(), cx.ravel()], axis=1)
        cells = np.repeat(centres, len(shapes), axis=0)
        out.append(np.concatenate([cells, np.tile(shapes, (len(centres), 1))], axis=1))
    return np.concatenate(out).astype(np.float32)


class SsdDecoder(Decoder):
    """Parameters: ``box_encodings`` ([1, N, 4] or [1, N, 1, 4]) and ``scores`` ([1, N, C]
    or [1, N, C+1]) tensor names; ``anchors``: ``{"file": path}`` (relative to the config;
    ``.npy`` or JSON list) or ``{"levels": [{"stride", "sizes", "aspect_ratios"}], "offset"}``;
    ``scales`` [y, x, h, w] (default [10, 10, 5, 5]); ``score_activation`` none|sigmoid|softmax
    (default sigmoid); ``background_class`` (default false: true drops column 0 after the
    activation)."""

    name = "ssd"
    keys = ("box_encodings", "scores", "anchors", "scales", "score_activation",
            "background_class")

    def parse(self, params: Fields) -> None:
        self.box_encodings = params.string("box_encodings")
        self.scores = params.string("scores")
        self.scales = params.numbers("scales", 4, default=[10.0, 10.0, 5.0, 5.0], positive=True)
        self.activation = params.choice("score_activation", ACTIVATIONS, "sigmoid")
        self.background = params.boolean("background_class", False)
        self.anchors = self._anchors(params.child("anchors"))

    def _anchors(self, raw: Fields) -> np.ndarray:
        if "file" in raw.raw:
            raw.only("file")
            path = Path(raw.source).parent / raw.string("file")
            try:
                values = (np.load(path) if path.suffix == ".npy"
                          else np.asarray(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError) as exc:
                raise raw.fail("file", f"cannot be read as anchors ({path}: {exc})") from exc
            values = np.asarray(values, np.float32)
            if values.ndim != 2 or values.shape[1] != 4 or not np.isfinite(values).all():
                raise raw.fail("file", f"{path} must hold finite [N, 4] (y_center, x_center, "
                                       f"h, w), got shape {list(values.shape)}")
            return values
        raw.only("levels", "offset")
        levels = []
        for level in raw.objects("levels"):
            level.only("stride", "sizes", "aspect_ratios")
            levels.append((level.integer("stride", minimum=1),
                           level.numbers("sizes", positive=True),
                           level.numbers("aspect_ratios", default=[1.0], positive=True)))
        return grid_anchors(levels, self.input_size, raw.number("offset", 0.5))

    @property
    def tensor_names(self) -> tuple[str, ...]:
        return (self.box_encodings, self.scores)

    def check(self, shapes: dict[str, Shape]) -> int:
        n = len(self.anchors)
        enc = shapes[self.box_encodings]
        expected = (None, n, 1, 4) if len(enc) == 4 else (None, n, 4)
        self.expect(shapes, self.params, "box_encodings", expected,
                    f"one encoding per anchor: the anchors configuration gives {n}")
        columns = self.num_classes + int(self.background)
        self.expect(shapes, self.params, "scores", (None, n, columns),
                    f"{self.num_classes} labels" + (" + a background column 0"
                                                    if self.background else ""))
        return n

    def decode(self, outputs: dict[str, Any]) -> tuple[Any, Any]:
        import tensorflow as tf

        enc = tf.cast(outputs[self.box_encodings], tf.float32)
        enc = tf.reshape(enc, [-1, len(self.anchors), 4])
        ya, xa, ha, wa = (tf.constant(self.anchors[:, i]) for i in range(4))
        ys, xs, hs, ws = self.scales
        yc = enc[..., 0] / ys * ha + ya
        xc = enc[..., 1] / xs * wa + xa
        h = tf.exp(enc[..., 2] / hs) * ha
        w = tf.exp(enc[..., 3] / ws) * wa
        boxes = tf.stack([xc - w * 0.5, yc - h * 0.5, xc + w * 0.5, yc + h * 0.5], axis=-1)
        scores = tf.cast(outputs[self.scores], tf.float32)
        if self.activation == "sigmoid":
            scores = tf.sigmoid(scores)
        elif self.activation == "softmax":
            scores = tf.nn.softmax(scores, axis=-1)
        return boxes, scores[..., 1:] if self.background else scores
