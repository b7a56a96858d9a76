"""Keras building blocks shared by the Fast and Accurate detectors."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from sdk.anchors import BOX_CODER_SCALES


def conv_bn(x, filters: int, kernel: int = 1, strides: int = 1, name: str = ""):
    """Conv (no bias) + batch norm + ReLU6, the MobileNet unit."""
    x = layers.Conv2D(filters, kernel, strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.97, epsilon=1e-3, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def dw_bn(x, strides: int = 1, name: str = ""):
    """Depthwise 3x3 + batch norm + ReLU6."""
    x = layers.DepthwiseConv2D(3, strides, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=0.97, epsilon=1e-3, name=f"{name}_dwbn")(x)
    return layers.ReLU(6.0, name=f"{name}_dwrelu")(x)


def flatten_level(x, last: int, name: str):
    """[B, H, W, A*last] -> [B, H*W*A, last] in the anchor generator's (y, x, a) order."""
    return layers.Reshape((-1, last), name=name)(x)


def prior_bias(prior: float = 0.01) -> keras.initializers.Initializer:
    """Class-logit bias so every anchor starts at ``prior`` probability (RetinaNet init)."""
    return keras.initializers.Constant(-math.log((1 - prior) / prior))


class AnchorDecoder(layers.Layer):
    """Decode (ty, tx, th, tw) codes against constant anchors into normalized xyxy boxes.

    The anchors are baked in as a constant so exported graphs end at canonical boxes.
    Mirrors :func:`sdk.anchors.decode`.
    """

    def __init__(self, anchors: np.ndarray, **kwargs):
        super().__init__(**kwargs)
        self._anchors = np.asarray(anchors, np.float32)

    def call(self, codes):
        a = ops.convert_to_tensor(self._anchors)
        wa, ha = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
        xa, ya = a[:, 0] + wa / 2, a[:, 1] + ha / 2
        sy, sx, sh, sw = BOX_CODER_SCALES
        y = codes[..., 0] / sy * ha + ya
        x = codes[..., 1] / sx * wa + xa
        # Clamp the log-size so a wild code cannot overflow exp() (as torchvision does).
        h = ops.exp(ops.minimum(codes[..., 2] / sh, 4.135)) * ha
        w = ops.exp(ops.minimum(codes[..., 3] / sw, 4.135)) * wa
        return ops.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape


# Keras' MobileNetV2 uses batch-norm momentum 0.999, tuned for ImageNet's million-step runs.
# Trained from scratch for a few thousand steps, its moving statistics stay near their
# initial values and the model is useless at inference; the TF OD API's SSD configs use 0.97.
BN_MOMENTUM = 0.97


def set_bn_momentum(model: keras.Model, momentum: float = BN_MOMENTUM) -> None:
    """Set the moving-average momentum of every batch-norm layer of ``model``."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = momentum
