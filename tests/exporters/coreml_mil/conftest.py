"""Fixtures of the interpreter tests that need a real detector export.

``smooth_source`` is the smooth tiny Fast of the runtime tests (``tests/runtime/models.py``),
not the exporter tests' batch-norm-recalibrated ``source``: computed in float16 throughout,
as Core ML does, that one is chaotic enough for its scores to move by 0.1 (score cosine to
float32 0.9990, measured), which a trained detector does not do (the bundled Fast: 0.999999).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def smooth_source(tiny_fast: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from exporters.source import open_source
    from sdk.models.io import load_detector, save_detector
    from tests.runtime.models import (
        BACKGROUND_BIAS,
        CLASS_HEAD_GAIN,
        reinitialize,
        sharpen_class_heads,
    )

    net, cfg, _ = load_detector(tiny_fast)
    reinitialize(net)
    sharpen_class_heads(net, cfg, CLASS_HEAD_GAIN, BACKGROUND_BIAS)
    folder = save_detector(tmp_path_factory.mktemp("smooth") / "fast", net, cfg)
    with open_source(folder) as opened:
        yield opened


@pytest.fixture(scope="session")
def probes(smooth_source) -> np.ndarray:
    """The synthetic probe images, preprocessed for the detector: [8, H, W, 3] float32."""
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    return np.concatenate([preprocess(image, smooth_source.spec.input)[0]
                           for image in synthetic_probes()])
