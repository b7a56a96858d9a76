"""Starting a detector from trained weights: ``sdk train --init`` and ``--backbone-weights``.

``--init`` takes a bundled model (``fast``, ``accurate``), a run folder or a weights file
and copies every layer into the new detector by name: backbone, extra layers / FPN, box
head, batch-norm statistics. The class-score layers (found in the graph: the layers
feeding the ``logits`` output) are copied column by column: the background column and the
columns of classes whose name the source knows are kept, the columns of new classes keep
their fresh initialisation. With the same label set everything is kept; with a label set
the source has never seen the class scores start from scratch.

``--backbone-weights`` loads MobileNetV2 weights (``imagenet`` or a local file such as
Keras' ``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5`` downloaded
elsewhere) into the backbone only. Neither is recorded for the builders: a detector is
always rebuilt from its config with random weights and then loaded, so loading a trained
model never needs the source files or the internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdk.digests import file_sha256
from sdk.models.config import ConfigError, DetectorConfig
from sdk.models.io import (
    BUNDLED,
    BUNDLED_DIR,
    CONFIG_FILE,
    WEIGHTS_FILE,
)

if TYPE_CHECKING:  # pragma: no cover
    import keras

CHECKPOINT_DIR = "checkpoint"  # sdk.train.loop.CKPT_DIR (sdk.models must not import sdk.train)
# Config fields that decide the shapes of the weights; all must agree to copy them.
SHAPE_FIELDS = ("arch", "alpha", "head_channels", "head_depth", "head")


class InitError(ValueError):
    """Trained weights that cannot start this detector; the message says which and why."""


@dataclass(frozen=True)
class InitSource:
    """Resolved ``--init`` argument.

    Attributes:
        name: the argument as given (``fast``, a folder or a file).
        weights: the weights file to read.
        config: the config the weights were trained with, None for a bare weights file.
    """

    name: str
    weights: Path
    config: DetectorConfig | None


def resolve_init(source: str | Path) -> InitSource:
    """``fast``/``accurate`` -> bundled model; a run folder -> its final weights, else its
    latest checkpoint; a weights file -> that file with the ``config.json`` beside it (or
    beside its ``checkpoint/`` folder) when there is one. Raises :class:`InitError`."""
    name = str(source)
    path = BUNDLED_DIR / name if name in BUNDLED and not Path(name).exists() else Path(name)
    if path.is_dir():
        candidates = [path / WEIGHTS_FILE, path / CHECKPOINT_DIR / WEIGHTS_FILE]
        weights = next((w for w in candidates if w.is_file()), None)
        if weights is None or not (path / CONFIG_FILE).is_file():
            raise InitError(
                f"--init {name}: not a trained detector folder (needs {CONFIG_FILE} and "
                f"{WEIGHTS_FILE} or {CHECKPOINT_DIR}/{WEIGHTS_FILE}); pass 'fast', 'accurate', "
                "a folder written by 'sdk train' or a weights file")
        return InitSource(name, weights, _load_config(path / CONFIG_FILE, name))
    if path.is_file():
        beside = [path.parent / CONFIG_FILE]
        if path.parent.name == CHECKPOINT_DIR:
            beside.append(path.parent.parent / CONFIG_FILE)
        config = next((c for c in beside if c.is_file()), None)
        return InitSource(name, path, _load_config(config, name) if config else None)
    raise InitError(f"--init {name}: no such model, folder or file; pass 'fast', 'accurate', "
                    "a run folder or a weights file")


def _load_config(path: Path, name: str) -> DetectorConfig:
    try:
        return DetectorConfig.load(path)
    except (ConfigError, OSError) as exc:
        raise InitError(f"--init {name}: {exc}") from exc


def init_config(source: InitSource, arch: str | None, labels: tuple[str, ...],
                input_size: int | None) -> DetectorConfig:
    """The config of a detector for ``labels`` started from ``source``.

    It is the source's config (same architecture, widths, anchors, head, NMS) with the new
    labels; ``input_size`` overrides the source's. A bare weights file has no config:
    then ``arch`` decides and its default config is used (the file must fit it).
    """
    from sdk.models import default_config

    if source.config is None:
        if arch is None:
            raise InitError(f"--init {source.name}: a weights file without {CONFIG_FILE} "
                            "beside it needs --arch")
        return default_config(arch, labels, **({"input_size": input_size} if input_size
                                               else {}))
    src = source.config
    if arch is not None and arch != src.arch:
        raise InitError(f"--init {source.name} is a '{src.arch}' detector; it cannot start "
                        f"a '{arch}' one (pass --arch {src.arch}, or leave --arch out)")
    size = (input_size, input_size) if input_size else src.input_size
    return src.replace(labels=tuple(labels), input_size=tuple(size), backbone_weights=None)


def class_score_layers(net: keras.Model) -> list[str]:
    """Names of the layers whose outputs become the ``logits`` output (through reshapes)."""
    from keras import layers

    found: list[str] = []
    for node in net.get_layer("logits")._inbound_nodes:
        for parent in node.parent_nodes:
            op = parent.operation
            while isinstance(op, layers.Reshape):
                op = op._inbound_nodes[0].parent_nodes[0].operation
            if op.name not in found:
                found.append(op.name)
    return found


def _column_map(src: DetectorConfig, dst: DetectorConfig) -> list[int | None]:
    """For each logit column of ``dst``: the column of ``src`` it continues, or None."""
    background = int(dst.detection_head.background)
    where = {label: i + background for i, label in enumerate(src.labels)}
    mapping: list[int | None] = [0] * background
    mapping += [where.get(label) for label in dst.labels]
    return mapping


def _map_columns(src_w: np.ndarray, dst_w: np.ndarray, mapping: list[int | None],
                 src_width: int) -> np.ndarray:
    """Copy the columns of the per-anchor output axis (last) of ``src_w`` into ``dst_w``."""
    anchors = src_w.shape[-1] // src_width
    src = src_w.reshape(*src_w.shape[:-1], anchors, src_width)
    out = dst_w.reshape(*dst_w.shape[:-1], anchors, len(mapping)).copy()
    for j, i in enumerate(mapping):
        if i is not None:
            out[..., j] = src[..., i]
    return out.reshape(dst_w.shape)


def _check_fits(src: DetectorConfig, dst: DetectorConfig, name: str) -> None:
    for field in SHAPE_FIELDS:
        a, b = getattr(src, field), getattr(dst, field)
        if a != b:
            raise InitError(f"--init {name}: its {field} is {a!r}, this detector's {b!r}; "
                            "the weights do not fit")
    cells = [lv.per_cell for lv in src.levels], [lv.per_cell for lv in dst.levels]
    if cells[0] != cells[1]:
        raise InitError(f"--init {name}: anchors per cell by level {cells[0]}, this "
                        f"detector's {cells[1]}; the heads do not fit")


def _transfer(src_net: keras.Model, src_cfg: DetectorConfig, net: keras.Model,
              cfg: DetectorConfig, name: str) -> None:
    """Copy ``src_net`` into ``net`` layer by layer (class columns mapped by label)."""
    scores = set(class_score_layers(net))
    mapping = _column_map(src_cfg, cfg)
    src_width = src_cfg.detection_head.logits_per_anchor(src_cfg.num_classes)
    for layer in net.layers:
        if not layer.weights:
            continue
        try:
            src_layer = src_net.get_layer(layer.name)
        except ValueError as exc:
            raise InitError(f"--init {name}: has no layer {layer.name!r}") from exc
        src_vars, dst_vars = src_layer.weights, layer.weights
        if len(src_vars) != len(dst_vars):
            raise InitError(f"--init {name}: layer {layer.name!r} has {len(src_vars)} weights, "
                            f"this detector's {len(dst_vars)}")
        values = []
        for s, d in zip(src_vars, dst_vars, strict=True):
            sv, dv = np.asarray(s.numpy()), np.asarray(d.numpy())
            # the output side of a class-score layer: one column per logit, per anchor
            if layer.name in scores and s.name in ("kernel", "pointwise_kernel", "bias"):
                values.append(_map_columns(sv, dv, mapping, src_width))
            elif sv.shape != dv.shape:
                raise InitError(f"--init {name}: weight {layer.name}/{s.name} has shape "
                                f"{sv.shape}, this detector's {dv.shape}")
            else:
                values.append(sv)
        layer.set_weights(values)


def init_from(net: keras.Model, cfg: DetectorConfig, source: InitSource) -> dict[str, Any]:
    """Load ``source`` into the freshly built ``net`` (config ``cfg``); returns the record
    kept in the model card: source, weights sha256, kept / new / dropped classes."""
    from sdk.models import build_training_model

    record: dict[str, Any] = {"from": source.name, "weights": str(source.weights),
                              "weights_sha256": file_sha256(source.weights)}
    if source.config is None:  # no labels known: the file must be this very model
        try:
            net.load_weights(source.weights)
        except (OSError, ValueError) as exc:
            raise InitError(
                f"--init {source.name}: does not fit a '{cfg.arch}' detector for "
                f"{cfg.num_classes} classes ({_keras_load_error(exc)}); put the {CONFIG_FILE} "
                "it was trained with beside it") from exc
        return {**record, "classes_kept": list(cfg.labels), "classes_new": [],
                "note": f"no {CONFIG_FILE}: labels assumed to be this dataset's"}
    src_cfg = source.config.replace(input_size=cfg.input_size, backbone_weights=None)
    _check_fits(src_cfg, cfg, source.name)
    src_net = build_training_model(src_cfg)
    try:
        src_net.load_weights(source.weights)
    except (OSError, ValueError) as exc:
        raise InitError(f"--init {source.name}: {source.weights} does not match its "
                        f"{CONFIG_FILE} ({_keras_load_error(exc)})") from exc
    _transfer(src_net, src_cfg, net, cfg, source.name)
    known = set(src_cfg.labels)
    return {**record, "classes_kept": [c for c in cfg.labels if c in known],
            "classes_new": [c for c in cfg.labels if c not in known],
            "classes_dropped": [c for c in src_cfg.labels if c not in set(cfg.labels)]}


def _keras_load_error(exc: Exception) -> str:
    """The gist of a Keras weight-loading error (whose text can dump whole tensors)."""
    import re

    text = str(exc)
    shapes = re.search(r"variable\.shape=(\([^)]*\)), Received: value\.shape=(\([^)]*\))", text)
    layer = re.search(r"path=([\w/]+)", text)
    if shapes:
        where = f"weight {layer.group(1)}: " if layer else ""
        return f"{where}shape {shapes.group(2)} in the file, {shapes.group(1)} in the model"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first if len(first) <= 300 else first[:300] + "..."


def load_backbone_weights(net: keras.Model, cfg: DetectorConfig, weights: str) -> dict[str, Any]:
    """Load MobileNetV2 weights (``"imagenet"`` or a local file) into ``net``'s backbone.

    Returns the card record. Raises :class:`InitError` when the file is missing or holds
    no MobileNetV2 of this width (``cfg.alpha``)."""
    import keras

    if weights != "imagenet" and not Path(weights).is_file():
        raise InitError(f"--backbone-weights {weights}: no such file (pass 'imagenet' or a "
                        "local MobileNetV2 weights file)")
    h, w = cfg.input_size
    try:
        backbone = keras.applications.MobileNetV2(
            input_shape=(h, w, 3), alpha=cfg.alpha, include_top=False, weights=weights)
    except (OSError, ValueError) as exc:
        raise InitError(f"--backbone-weights {weights}: not MobileNetV2 weights of width "
                        f"alpha={cfg.alpha} without the classifier (include_top=False) "
                        f"({_keras_load_error(exc)})") from exc
    copied = 0
    for layer in backbone.layers:
        if layer.weights:
            net.get_layer(layer.name).set_weights(layer.get_weights())
            copied += 1
    record: dict[str, Any] = {"backbone_weights": weights, "backbone_layers": copied}
    if weights != "imagenet":
        record["backbone_sha256"] = file_sha256(Path(weights))
    return record
