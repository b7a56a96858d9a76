"""Starting a detector from trained weights (``--init``) or backbone weights (a local file)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sdk.models.io import BUNDLED_DIR, CONFIG_FILE, WEIGHTS_FILE
from sdk.models.transfer import InitError, resolve_init

NEW_LABELS = ("circle", "pentagon", "square", "arrow")  # two known (moved), two new


def test_resolves_bundled_models_run_folders_and_weights_files(tmp_path):
    fast = resolve_init("fast")
    assert fast.weights == BUNDLED_DIR / "fast" / WEIGHTS_FILE and fast.config.arch == "fast"
    # a run still training: only its checkpoint has weights
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    shutil.copy(BUNDLED_DIR / "fast" / CONFIG_FILE, run / CONFIG_FILE)
    shutil.copy(BUNDLED_DIR / "fast" / WEIGHTS_FILE, run / "checkpoint" / WEIGHTS_FILE)
    found = resolve_init(run)
    assert found.weights == run / "checkpoint" / WEIGHTS_FILE and found.config.arch == "fast"
    # the checkpoint's weights file alone finds the run's config one folder up
    assert resolve_init(run / "checkpoint" / WEIGHTS_FILE).config == found.config
    bare = shutil.copy(BUNDLED_DIR / "fast" / WEIGHTS_FILE, tmp_path / "fast.weights.h5")
    assert resolve_init(bare).config is None


def test_unknown_sources_are_clear_errors(tmp_path):
    with pytest.raises(InitError, match="no such model, folder or file"):
        resolve_init(tmp_path / "missing")
    with pytest.raises(InitError, match="not a trained detector folder"):
        resolve_init(tmp_path)
    (tmp_path / CONFIG_FILE).write_text("{}")
    (tmp_path / WEIGHTS_FILE).write_bytes(b"")
    with pytest.raises(InitError, match=rf"{CONFIG_FILE}: missing field"):
        resolve_init(tmp_path)


def test_config_follows_the_source_with_the_new_labels():
    from sdk.models.transfer import init_config

    source = resolve_init("accurate")
    cfg = init_config(source, None, NEW_LABELS, None)
    assert cfg == source.config.replace(labels=NEW_LABELS)
    assert init_config(source, "accurate", NEW_LABELS, 256).input_size == (256, 256)
    with pytest.raises(InitError, match="is a 'accurate' detector; it cannot start a 'fast'"):
        init_config(source, "fast", NEW_LABELS, None)


def _weights(net) -> dict[str, list[np.ndarray]]:
    return {layer.name: [np.array(w) for w in layer.get_weights()] for layer in net.layers
            if layer.weights}


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["fast", "accurate"])
def test_keeps_every_layer_and_the_columns_of_known_classes(arch, request):
    from sdk.models import build_training_model
    from sdk.models.io import load_detector
    from sdk.models.transfer import class_score_layers, init_config, init_from

    folder = request.getfixturevalue(f"tiny_{arch}")
    src_net, src_cfg, _ = load_detector(folder)
    source = resolve_init(folder)
    cfg = init_config(source, None, NEW_LABELS, None)
    net = build_training_model(cfg)
    fresh = _weights(net)
    record = init_from(net, cfg, source)
    assert record["classes_kept"] == ["circle", "square"]
    assert record["classes_new"] == ["pentagon", "arrow"]
    assert set(record["classes_dropped"]) == set(src_cfg.labels) - {"circle", "square"}

    got, src = _weights(net), _weights(src_net)
    scores = class_score_layers(net)
    assert scores == ({"fast": [f"head{i}_cls" for i in range(len(cfg.levels))],
                       "accurate": ["cls_net_out"]}[arch])
    for name, values in got.items():
        if name in scores:
            continue
        for a, b in zip(values, src[name], strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)  # backbone, FPN, box head

    bg = int(cfg.detection_head.background)
    width_src, width = len(src_cfg.labels) + bg, len(NEW_LABELS) + bg
    for name in scores:
        for var, now, before, old in zip(net.get_layer(name).weights, got[name], fresh[name],
                                         src[name], strict=True):
            if var.name == "depthwise_kernel":  # input side of a separable conv: kept
                np.testing.assert_array_equal(now, old)
                continue
            now, before = now.reshape(-1, width), before.reshape(-1, width)
            old = old.reshape(-1, width_src)
            if bg:
                np.testing.assert_array_equal(now[:, 0], old[:, 0])  # background
            for j, label in enumerate(NEW_LABELS):
                if label in src_cfg.labels:
                    np.testing.assert_array_equal(
                        now[:, j + bg], old[:, src_cfg.labels.index(label) + bg])
                else:  # a class the source never saw keeps its fresh initialisation
                    np.testing.assert_array_equal(now[:, j + bg], before[:, j + bg])


@pytest.mark.slow
def test_the_same_labels_keep_everything(tiny_fast):
    from sdk.models import build_training_model
    from sdk.models.io import load_detector
    from sdk.models.transfer import init_config, init_from

    src_net, src_cfg, _ = load_detector(tiny_fast)
    source = resolve_init(tiny_fast)
    cfg = init_config(source, None, src_cfg.labels, None)
    net = build_training_model(cfg)
    assert init_from(net, cfg, source)["classes_new"] == []
    for a, b in zip(net.get_weights(), src_net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_weights_that_do_not_fit_are_named(tiny_fast, tmp_path):
    from sdk.models import build_training_model, default_config
    from sdk.models.transfer import init_from

    labels = json.loads((tiny_fast / CONFIG_FILE).read_text())["labels"]
    # a source config that differs in a shape-deciding field
    other = shutil.copytree(tiny_fast, tmp_path / "wide")
    data = json.loads((other / CONFIG_FILE).read_text())
    data["alpha"] = 0.5
    (other / CONFIG_FILE).write_text(json.dumps(data))
    cfg = default_config("fast", tuple(labels), input_size=96)
    with pytest.raises(InitError, match="its alpha is 0.5, this detector's 0.35"):
        init_from(build_training_model(cfg), cfg, resolve_init(other))
    # a bare weights file (no config beside it) must be this very model
    bare = shutil.copy(tiny_fast / WEIGHTS_FILE, tmp_path / "bare.weights.h5")
    fewer = cfg.replace(labels=tuple(labels[:2]))
    with pytest.raises(InitError, match=rf"does not fit a 'fast' detector for 2 classes.*"
                                        rf"{CONFIG_FILE}"):
        init_from(build_training_model(fewer), fewer, resolve_init(bare))
    record = init_from(build_training_model(cfg), cfg, resolve_init(bare))
    assert "labels assumed" in record["note"]


def _save_legacy_h5(model, path: Path) -> Path:
    """Write ``model``'s weights as Keras' ImageNet files are written (legacy HDF5)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["keras-imagenet-h5", "keras3-weights-h5"])
def test_backbone_weights_from_a_local_file(tmp_path, layout):
    import keras

    from sdk.models import build_training_model, default_config
    from sdk.models.transfer import load_backbone_weights

    cfg = default_config("fast", ("a", "b"), input_size=96)
    # stands in for mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5
    keras.utils.set_random_seed(3)
    backbone = keras.applications.MobileNetV2(input_shape=(224, 224, 3), alpha=0.35,
                                              include_top=False, weights=None)
    if layout == "keras-imagenet-h5":
        path = _save_legacy_h5(backbone, tmp_path / "mobilenet_v2_0.35_224_no_top.h5")
    else:
        path = tmp_path / "backbone.weights.h5"
        backbone.save_weights(path)
    net = build_training_model(cfg)
    record = load_backbone_weights(net, cfg, str(path))
    assert record["backbone_layers"] == sum(1 for layer in backbone.layers if layer.weights)
    for layer in (layer for layer in backbone.layers if layer.weights):
        for a, b in zip(layer.get_weights(), net.get_layer(layer.name).get_weights(),
                        strict=True):
            np.testing.assert_array_equal(a, b, err_msg=layer.name)

    wider = cfg.replace(alpha=0.5)
    with pytest.raises(InitError, match=r"not MobileNetV2 weights of width alpha=0.5"):
        load_backbone_weights(build_training_model(wider), wider, str(path))
    with pytest.raises(InitError, match="no such file"):
        load_backbone_weights(net, cfg, str(tmp_path / "missing.h5"))
