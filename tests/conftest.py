"""Project-wide fixtures: a tiny synthetic dataset and tiny detectors built in seconds.

Tiny means small input (96 px), two levels of the real architectures and few images,
so build/export/run tests exercise the real code paths without real training time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TINY_SIZE = 96


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12/4/4-image synthetic COCO dataset (read-only: copy it before modifying)."""
    from sdk.data.synth import generate

    return generate(tmp_path_factory.mktemp("tiny") / "shapes", seed=7, train=12, val=4, test=4)


def _tiny_model(root: Path, arch: str, data: Path) -> Path:
    from sdk.data import load_dataset
    from sdk.models import build_training_model, default_config
    from sdk.models.io import save_detector

    labels = load_dataset(data, "train").classes
    cfg = default_config(arch, labels, input_size=TINY_SIZE)
    net = build_training_model(cfg)
    return save_detector(root / arch, net, cfg, card={"arch": arch, "note": "untrained tiny"})


@pytest.fixture(scope="session")
def tiny_fast(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    """An untrained Fast detector folder (config + weights) at 96 px."""
    return _tiny_model(tmp_path_factory.mktemp("models"), "fast", tiny_data)


@pytest.fixture(scope="session")
def tiny_accurate(tmp_path_factory: pytest.TempPathFactory, tiny_data: Path) -> Path:
    """An untrained Accurate detector folder (config + weights) at 96 px."""
    return _tiny_model(tmp_path_factory.mktemp("models"), "accurate", tiny_data)
