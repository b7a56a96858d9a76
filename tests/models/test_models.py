"""Both architectures: build, canonical outputs, in-graph decoder, save/load, registry."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.anchors import decode, generate_anchors
from sdk.models import (
    ARCHITECTURES,
    UnknownArchitectureError,
    build_inference_model,
    default_config,
)
from sdk.models.config import DetectorConfig
from sdk.models.io import ModelNotFoundError, load_detector, resolve_model_dir, weights_sha256

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_inference_model_ends_at_canonical_tensors(arch, request):
    net, cfg, _ = load_detector(request.getfixturevalue(f"tiny_{arch}"))
    model = build_inference_model(net, cfg)
    x = np.random.default_rng(0).uniform(-1, 1, (2, *cfg.input_size, 3)).astype(np.float32)
    out = model(x)
    anchors = generate_anchors(cfg.levels, cfg.input_size)
    assert out["boxes"].shape == (2, len(anchors), 4)
    assert out["scores"].shape == (2, len(anchors), cfg.num_classes)
    scores = np.asarray(out["scores"])
    assert scores.min() >= 0 and scores.max() <= 1
    codes = np.asarray(net(x)[0])
    np.testing.assert_allclose(np.asarray(out["boxes"]), decode(codes, anchors), atol=1e-4)


def test_fast_is_softmax_with_background_and_accurate_is_focal(tiny_fast, tiny_accurate):
    fast, fcfg, _ = load_detector(tiny_fast)
    acc, acfg, _ = load_detector(tiny_accurate)
    assert fast.outputs[1].shape[-1] == fcfg.num_classes + 1 and fcfg.head == "softmax"
    assert acc.outputs[1].shape[-1] == acfg.num_classes and acfg.head == "focal"
    assert acfg.levels[0].stride == 8  # the stride-8 level for small objects


def test_default_sizes_follow_the_design():
    labels = ("a", "b")
    assert default_config("fast", labels).input_size == (320, 320)
    assert default_config("accurate", labels).input_size[0] >= 448


def test_config_round_trip(tmp_path):
    cfg = default_config("accurate", ("a", "b"), input_size=128)
    cfg.save(tmp_path / "c.json")
    assert DetectorConfig.load(tmp_path / "c.json") == cfg


def test_load_restores_identical_weights(tiny_fast):
    a, _, _ = load_detector(tiny_fast)
    b, _, _ = load_detector(tiny_fast)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert len(weights_sha256(tiny_fast)) == 64


def test_unknown_arch_and_missing_model(tmp_path):
    with pytest.raises(UnknownArchitectureError, match="choose one of"):
        default_config("yolo", ("a",))
    with pytest.raises(ModelNotFoundError, match="missing config.json"):
        resolve_model_dir(tmp_path)


def test_corrupt_weights_are_reported(tiny_fast, tmp_path):
    import shutil

    broken = shutil.copytree(tiny_fast, tmp_path / "broken")
    (broken / "model.weights.h5").write_bytes(b"not an h5 file")
    with pytest.raises(ModelNotFoundError, match="cannot load weights"):
        load_detector(broken)
