"""Detector architectures. Adding one = one module + one line in ``ARCHITECTURES``.

Importing this package is light; Keras/TensorFlow load only when a model is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sdk.models.config import DetectorConfig

if TYPE_CHECKING:  # pragma: no cover
    import keras

# arch -> (builder, default-config factory), as lazily imported "module:attr" names.
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "fast": ("sdk.models.fast:build_fast", "sdk.models.fast:default_fast_config"),
    "accurate": ("sdk.models.accurate:build_accurate",
                 "sdk.models.accurate:default_accurate_config"),
}


class UnknownArchitectureError(ValueError):
    """The requested architecture is not in :data:`ARCHITECTURES`."""


def _resolve(name: str):
    module, attr = name.split(":")
    return getattr(importlib.import_module(module), attr)


def _entry(arch: str) -> tuple[str, str]:
    if arch not in ARCHITECTURES:
        raise UnknownArchitectureError(
            f"unknown architecture {arch!r}; choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch]


def default_config(arch: str, labels: tuple[str, ...], **overrides) -> DetectorConfig:
    """Default configuration of ``arch`` for ``labels`` with optional field overrides."""
    factory = _resolve(_entry(arch)[1])
    size = overrides.pop("input_size", None)
    cfg = factory(tuple(labels)) if size is None else factory(tuple(labels), input_size=size)
    return cfg.replace(**overrides) if overrides else cfg


def build_training_model(cfg: DetectorConfig) -> keras.Model:
    """Image -> (box codes, class logits): what the losses are computed on."""
    return _resolve(_entry(cfg.arch)[0])(cfg)


def build_inference_model(train_model: keras.Model, cfg: DetectorConfig) -> keras.Model:
    """Wrap a training model so it ends at the canonical ``boxes`` and ``scores`` tensors
    (activation and background column from the config's detection head)."""
    import keras

    from sdk.anchors import generate_anchors
    from sdk.models.layers import AnchorDecoder

    codes, logits = train_model.outputs
    boxes = AnchorDecoder(generate_anchors(cfg.levels, cfg.input_size), name="boxes")(codes)
    scores = cfg.detection_head.scores(logits)
    return keras.Model(train_model.input, {"boxes": boxes, "scores": scores},
                       name=f"{cfg.arch}_inference")
