"""Fast: SSDLite heads on a MobileNetV2 backbone at 320 px (Huang et al., SSD + MobileNet)."""

from __future__ import annotations

import keras
from keras import layers

from sdk.anchors import AnchorLevel
from sdk.models.config import DetectorConfig
from sdk.models.layers import conv_bn, dw_bn, flatten_level, set_bn_momentum

# Two backbone maps (stride 16 and 32) plus four extra layers that halve resolution.
FAST_LEVELS = (
    AnchorLevel(16, 24, (1.0, 1.41)),
    AnchorLevel(32, 48, (1.0, 1.41)),
    AnchorLevel(64, 96, (1.0, 1.41)),
    AnchorLevel(128, 160, (1.0, 1.41)),
    AnchorLevel(256, 224, (1.0, 1.41)),
    AnchorLevel(512, 300, (1.0, 1.41)),
)
EXTRA_CHANNELS = (192, 128, 128, 64)


def default_fast_config(labels: tuple[str, ...], input_size: int = 320) -> DetectorConfig:
    """The bundled Fast configuration for ``labels``."""
    return DetectorConfig(arch="fast", input_size=(input_size, input_size), labels=labels,
                          levels=FAST_LEVELS, alpha=0.35, head_channels=96,
                          head="softmax", matcher_positive=0.5, matcher_negative=0.4)


def _feature_maps(cfg: DetectorConfig, inputs) -> list:
    backbone = keras.applications.MobileNetV2(
        input_tensor=inputs, alpha=cfg.alpha, include_top=False, weights=None)
    set_bn_momentum(backbone)
    maps = [backbone.get_layer(name).output for name in ("block_13_expand_relu", "out_relu")]
    x = maps[-1]
    for i, ch in enumerate(EXTRA_CHANNELS[: len(cfg.levels) - 2]):
        x = conv_bn(x, ch // 2, name=f"extra{i}_reduce")
        x = dw_bn(x, strides=2, name=f"extra{i}")
        x = conv_bn(x, ch, name=f"extra{i}_expand")
        maps.append(x)
    return maps


def build_fast(cfg: DetectorConfig) -> keras.Model:
    """Training model: image -> (box codes [B, N, 4], class logits [B, N, K]), K from the
    config's head: C + 1 for softmax (column 0 is background), C for focal."""
    h, w = cfg.input_size
    inputs = keras.Input((h, w, 3), name="images")
    n_logits = cfg.detection_head.logits_per_anchor(cfg.num_classes)
    codes, logits = [], []
    for i, (fmap, level) in enumerate(zip(_feature_maps(cfg, inputs), cfg.levels, strict=True)):
        a = level.per_cell
        x = dw_bn(fmap, name=f"head{i}")
        box = layers.Conv2D(a * 4, 1, name=f"head{i}_box")(x)
        cls = layers.Conv2D(a * n_logits, 1, name=f"head{i}_cls")(x)
        codes.append(flatten_level(box, 4, f"head{i}_box_flat"))
        logits.append(flatten_level(cls, n_logits, f"head{i}_cls_flat"))
    codes = layers.Concatenate(axis=1, name="codes")(codes)
    logits = layers.Concatenate(axis=1, name="logits")(logits)
    return keras.Model(inputs, [codes, logits], name="fast")


__all__ = ["FAST_LEVELS", "build_fast", "default_fast_config"]
