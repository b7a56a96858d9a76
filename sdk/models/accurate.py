"""Accurate: RetinaNet-style FPN single-shot detector, stride-8 level, focal loss, 448 px."""

from __future__ import annotations

import keras
from keras import layers

from sdk.anchors import AnchorLevel
from sdk.models.config import DetectorConfig
from sdk.models.layers import flatten_level, prior_bias, set_bn_momentum

# P3..P6: the stride-8 level is what finds objects under 16 px.
ACCURATE_LEVELS = (
    AnchorLevel(8, 16, (1.0, 1.6)),
    AnchorLevel(16, 32, (1.0, 1.6)),
    AnchorLevel(32, 64, (1.0, 1.6)),
    AnchorLevel(64, 128, (1.0, 1.6)),
)
BACKBONE_TAPS = ("block_6_expand_relu", "block_13_expand_relu", "out_relu")  # C3, C4, C5


def default_accurate_config(labels: tuple[str, ...], input_size: int = 448) -> DetectorConfig:
    """The bundled Accurate configuration for ``labels``."""
    return DetectorConfig(arch="accurate", input_size=(input_size, input_size), labels=labels,
                          levels=ACCURATE_LEVELS, alpha=0.5, head_channels=64, head_depth=2,
                          head="focal", matcher_positive=0.5, matcher_negative=0.4)


def _fpn(cfg: DetectorConfig, inputs) -> list:
    """Top-down FPN over C3..C5 plus a stride-2 P6; returns P3..P6."""
    backbone = keras.applications.MobileNetV2(
        input_tensor=inputs, alpha=cfg.alpha, include_top=False, weights=None)
    set_bn_momentum(backbone)
    c3, c4, c5 = (backbone.get_layer(n).output for n in BACKBONE_TAPS)
    ch = cfg.head_channels
    p5 = layers.Conv2D(ch, 1, name="fpn_lat5")(c5)
    p4 = layers.Add(name="fpn_add4")([layers.Conv2D(ch, 1, name="fpn_lat4")(c4),
                                      layers.UpSampling2D(2, name="fpn_up5")(p5)])
    p3 = layers.Add(name="fpn_add3")([layers.Conv2D(ch, 1, name="fpn_lat3")(c3),
                                      layers.UpSampling2D(2, name="fpn_up4")(p4)])
    p6 = layers.Conv2D(ch, 3, strides=2, padding="same", name="fpn_p6")(c5)
    outs = []
    for i, p in zip((3, 4, 5), (p3, p4, p5), strict=True):
        outs.append(layers.SeparableConv2D(ch, 3, padding="same", name=f"fpn_smooth{i}")(p))
    return [*outs, p6]


def _shared_head(cfg: DetectorConfig, out_per_anchor: int, name: str, bias=None) -> list:
    """Layers of one subnet, shared across FPN levels (RetinaNet)."""
    convs = [layers.SeparableConv2D(cfg.head_channels, 3, padding="same", activation="relu",
                                    name=f"{name}_conv{j}") for j in range(cfg.head_depth)]
    a = cfg.levels[0].per_cell
    out = layers.SeparableConv2D(a * out_per_anchor, 3, padding="same", name=f"{name}_out",
                                 bias_initializer=bias or "zeros")
    return [*convs, out]


def build_accurate(cfg: DetectorConfig) -> keras.Model:
    """Training model: image -> (box codes [B, N, 4], class logits [B, N, K]), K from the
    config's head: C + 1 for softmax (column 0 is background), C for focal."""
    h, w = cfg.input_size
    inputs = keras.Input((h, w, 3), name="images")
    n_logits = cfg.detection_head.logits_per_anchor(cfg.num_classes)
    box_net = _shared_head(cfg, 4, "box_net")
    cls_net = _shared_head(cfg, n_logits, "cls_net", bias=prior_bias())
    codes, logits = [], []
    for i, p in enumerate(_fpn(cfg, inputs)):
        b = c = layers.Activation("relu", name=f"p{i + 3}_relu")(p)
        for layer in box_net:
            b = layer(b)
        for layer in cls_net:
            c = layer(c)
        codes.append(flatten_level(b, 4, f"p{i + 3}_box_flat"))
        logits.append(flatten_level(c, n_logits, f"p{i + 3}_cls_flat"))
    codes = layers.Concatenate(axis=1, name="codes")(codes)
    logits = layers.Concatenate(axis=1, name="logits")(logits)
    return keras.Model(inputs, [codes, logits], name="accurate")
