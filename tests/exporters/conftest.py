"""Exporter fixtures: a confident tiny Fast detector and one shared export source.

The untrained tiny detector outputs near-constant scores, which would make every parity
check pass trivially. The confident variant reacts to its input like a trained one: its
batch-norm statistics come from real images, the prediction kernels are scaled down (a
random head on normalized features gives logits so sharp that fp16 rounding flips
detections, which a trained head does not) and the background bias is raised so that only
some anchors win. Same idea as ``tests/runtime/models.py``, kept separate so the two test
suites can evolve independently.
All format tests share one :class:`ExportSource`, so the SavedModel is staged once, the
int8 calibration and the CoreML conversion are done once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

SEED, TINY_SIZE = 0, 96
BACKGROUND_BIAS = 2.0  # by trial: ~10 detections >= 0.3 per synthetic probe image
HEAD_SCALE = 0.5  # by trial: fp16 then matches the reference like a trained model does


def _make_confident(net, cfg, images: np.ndarray) -> None:
    import keras

    norms = [la for la in net.layers if isinstance(la, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0  # moving statistics := those of this batch
    net(images, training=True)
    for layer in norms:
        layer.momentum = 0.97
    for layer in net.layers:
        if layer.name.startswith("head") and layer.name.endswith(("_cls", "_box")):
            kernel, bias = layer.get_weights()
            if layer.name.endswith("_cls"):  # column 0 of each anchor's C+1 logits
                bias[0::cfg.num_classes + 1] = BACKGROUND_BIAS
            layer.set_weights([kernel * HEAD_SCALE, bias])


@pytest.fixture(scope="session")
def confident_fast(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    """A tiny Fast detector folder (config + weights) whose outputs depend on the image.

    Built here with a fixed seed (not from ``tiny_fast``, whose weights change every
    session) so the parity margins of the tests are the same on every run.
    """
    import keras

    from sdk.data import load_dataset, load_image
    from sdk.models import build_training_model, default_config
    from sdk.models.io import save_detector
    from sdk.preprocess import preprocess

    train = load_dataset(tiny_data, "train")
    keras.utils.set_random_seed(SEED)
    cfg = default_config("fast", train.classes, input_size=TINY_SIZE)
    net = build_training_model(cfg)
    images = np.concatenate([preprocess(load_image(s.image_path), cfg.input_spec)[0]
                             for s in train.samples])
    _make_confident(net, cfg, images)
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
