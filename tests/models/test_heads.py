"""The detection-head registry: one entry decides activation, background column and loss."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sdk.anchors import AnchorLevel
from sdk.models import ARCHITECTURES, default_config
from sdk.models.config import ConfigError, DetectorConfig
from sdk.models.heads import HEADS, LEGACY_LOSSES, UnknownHeadError
from sdk.models.io import BUNDLED, BUNDLED_DIR, CONFIG_FILE, ModelNotFoundError, load_detector

LABELS = ("a", "b", "c")


def _config(**changes) -> DetectorConfig:
    """A config built without importing Keras (the architectures' defaults do)."""
    return DetectorConfig(arch="fast", input_size=(64, 64), labels=LABELS,
                          levels=(AnchorLevel(16, 24, (1.0,)),), **changes)


def test_a_misspelled_head_fails_when_the_config_is_built():
    with pytest.raises(UnknownHeadError, match=r"'focall'; choose one of \['focal', 'softmax'\]"):
        _config(head="focall")
    with pytest.raises(UnknownHeadError, match="softmax_ohem"):
        _config().replace(head="softmax_ohem")  # the old loss name


@pytest.mark.parametrize(("field", "value"), [("head", "sigmoidd"), ("loss", "focall")])
def test_a_misspelled_head_in_config_json_names_file_and_field(tmp_path, field, value):
    data = _config().to_dict()
    del data["head"]
    data[field] = value
    path = tmp_path / CONFIG_FILE
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=rf"{CONFIG_FILE}: field '{field}': unknown detection "
                                          rf"head '{value}'; choose one of"):
        DetectorConfig.load(path)


def test_loading_a_model_with_a_bad_config_is_a_clear_error(tmp_path):
    (tmp_path / CONFIG_FILE).write_text('{"arch": "fast"}')
    (tmp_path / "model.weights.h5").write_bytes(b"")
    with pytest.raises(ModelNotFoundError, match=rf"{CONFIG_FILE}: missing field 'input_size'"):
        load_detector(tmp_path)


@pytest.mark.parametrize(("legacy", "head"), sorted(LEGACY_LOSSES.items()))
def test_run_folders_written_before_the_registry_still_load(tmp_path, legacy, head):
    data = _config().to_dict()
    data["loss"] = legacy
    del data["head"]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(data))
    assert DetectorConfig.load(tmp_path / CONFIG_FILE) == _config(head=head)


@pytest.mark.parametrize("arch", BUNDLED)
def test_bundled_configs_load_as_the_default_of_their_architecture(arch):
    # ``sdk train --resume`` compares them with the default config to find a finished run.
    cfg = DetectorConfig.load(BUNDLED_DIR / arch / CONFIG_FILE)
    assert cfg == default_config(arch, cfg.labels)
    assert cfg.head == {"fast": "softmax", "accurate": "focal"}[arch]


def test_every_head_has_its_loss():
    from sdk.train.losses import CLASSIFICATION_LOSSES

    assert {h.loss for h in HEADS.values()} <= set(CLASSIFICATION_LOSSES)
    assert all(name == h.name for name, h in HEADS.items())


def _reference_loss(head, scores: np.ndarray, cls_t: np.ndarray) -> float:
    """The head's loss written in terms of the exported ``scores`` (all negatives kept)."""
    if head.loss == "softmax_ohem":  # background probability = 1 - sum of the class scores
        pos = cls_t >= 0
        return float(-np.log(scores[pos, cls_t[pos]]).sum()
                     - np.log(1 - scores[cls_t == -1].sum(-1)).sum())
    onehot = np.eye(scores.shape[-1])[np.maximum(cls_t, 0)] * (cls_t >= 0)[:, None]
    p_t = np.where(onehot == 1, scores, 1 - scores)
    alpha_t = np.where(onehot == 1, 0.25, 0.75)
    return float((alpha_t * (1 - p_t) ** 2 * -np.log(p_t))[cls_t >= -1].sum())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HEADS))
def test_the_loss_trains_the_columns_the_export_reads(name):
    """Label c is the column that becomes score c, under the activation the export applies."""
    import keras
    import tensorflow as tf

    from sdk.train.losses import CLASSIFICATION_LOSSES

    head, classes = HEADS[name], len(LABELS)
    # 2 positives, 6 background anchors (fewer than hard mining keeps: all count), 2 ignored
    cls_t = np.array([0, 2, -1, -1, -1, -1, -1, -1, -2, -2])
    logits = np.random.default_rng(1).normal(
        0, 2, (1, len(cls_t), head.logits_per_anchor(classes))).astype(np.float32)
    inputs = keras.Input(logits.shape[1:])
    scores = np.asarray(keras.Model(inputs, head.scores(inputs))(logits))[0]
    assert scores.shape == (len(cls_t), classes)
    loss = CLASSIFICATION_LOSSES[head.loss](tf.constant(logits), tf.constant(cls_t[None]))
    np.testing.assert_allclose(float(loss), _reference_loss(head, scores, cls_t), rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize("name", sorted(HEADS))
def test_every_architecture_sizes_its_logits_from_the_head(arch, name):
    from sdk.models import build_inference_model, build_training_model

    cfg = default_config(arch, LABELS, input_size=96, head=name)
    net = build_training_model(cfg)
    assert net.outputs[1].shape[-1] == HEADS[name].logits_per_anchor(len(LABELS))
    x = np.zeros((1, 96, 96, 3), np.float32)
    assert np.asarray(build_inference_model(net, cfg)(x)["scores"]).shape[-1] == len(LABELS)
