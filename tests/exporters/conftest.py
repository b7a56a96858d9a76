"""Exporter fixtures: a confident tiny Fast detector and one shared export source.

The untrained tiny detector outputs near-constant scores, which would make every parity
check pass trivially. The confident variant reacts to its input like a trained one, and is
as smooth as one: its weights are re-drawn He-normal at gain 0.8 with identity batch norms
(``tests/runtime/models.py``: the signal survives the depth, one grey level of pixel noise
moves scores by ~1e-4), the class-head kernels are scaled up and the background logit raised
so that some anchors win with image-dependent scores. An earlier variant recalibrated the
batch norms on real images instead: that network is chaotic (computed in float16 throughout,
as Core ML does, its score cosine to float32 was 0.9990, where the bundled Fast gives
0.999999), so it failed the fp16 budget for a reason no trained model has.
All format tests share one :class:`ExportSource`, so the SavedModel is staged once, the
int8 calibration and the CoreML conversion are done once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

SEED, TINY_SIZE = 0, 96


@pytest.fixture(scope="session")
def confident_fast(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    """A tiny Fast detector folder (config + weights) whose outputs depend on the image.

    Built here with a fixed seed (not from ``tiny_fast``, whose weights change every
    session) so the parity margins of the tests are the same on every run.
    """
    import keras

    from sdk.data import load_dataset
    from sdk.models import build_training_model, default_config
    from sdk.models.io import save_detector
    from tests.runtime.models import (
        BACKGROUND_BIAS,
        CLASS_HEAD_GAIN,
        reinitialize,
        sharpen_class_heads,
    )

    train = load_dataset(tiny_data, "train")
    keras.utils.set_random_seed(SEED)
    cfg = default_config("fast", train.classes, input_size=TINY_SIZE)
    net = build_training_model(cfg)
    reinitialize(net, seed=SEED)
    sharpen_class_heads(net, cfg, CLASS_HEAD_GAIN, BACKGROUND_BIAS)
    return save_detector(tmp_path_factory.mktemp("confident") / "fast", net, cfg)


@pytest.fixture(scope="session")
def source(confident_fast: Path) -> Iterator:
    """The confident detector opened once for every export test (staged SavedModel)."""
    from exporters.source import open_source

    with open_source(confident_fast) as opened:
        yield opened


@pytest.fixture(scope="session")
def calib(tiny_data: Path, source):
    """Calibration inputs from the tiny dataset's train split (12 images)."""
    from exporters.calibration import load_calibration

    return load_calibration(tiny_data, source.spec.input)


@pytest.fixture()
def wrong_normalization(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the TFLite exporter write a detector.json with the wrong mean/std."""
    from exporters.formats.tflite.format import TFLiteFormat

    def broken(self, artifact, spec):
        return spec.with_input(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))

    monkeypatch.setattr(TFLiteFormat, "artifact_spec", broken)
