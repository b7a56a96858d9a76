"""Fixtures of the interpreter tests that need a real detector export.

``smooth_source`` is the exporter tests' ``source`` (``tests/exporters/conftest.py``): the
tiny Fast with the smooth weights of the runtime tests (``tests/runtime/models.py``), which,
computed in float16 throughout as Core ML does, stays as close to float32 as a trained
detector does.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def smooth_source(source):
    return source


@pytest.fixture(scope="session")
def probes(smooth_source) -> np.ndarray:
    """The synthetic probe images, preprocessed for the detector: [8, H, W, 3] float32."""
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    return np.concatenate([preprocess(image, smooth_source.spec.input)[0]
                           for image in synthetic_probes()])
