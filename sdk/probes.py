"""The one fixed probe-image set: the parity gate, ``sdk bench`` and the browser benchmark.

Real-looking scenes, not zeros (NMS cost depends on how many boxes survive), rendered by the
synthetic dataset's scene generator: the same seed gives the same pixels on any machine, so
Python renders them for the parity gate and ``sdk bench``, and the web demo serves the same
pixels to the browser as lossless PNG. Reference detections on them travel with every
export (``reference.json``, see :mod:`sdk.exports`).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

DEFAULT_PROBES = 8  # enough to see a broken export, cheap enough for Node, LiteRT, a phone
DEFAULT_SEED = 0


@lru_cache(maxsize=4)
def synthetic_probes(count: int = DEFAULT_PROBES, seed: int = DEFAULT_SEED,
                     ) -> tuple[np.ndarray, ...]:
    """``count`` deterministic HxWx3 uint8 RGB scenes of the synthetic dataset's classes."""
    from sdk.data.scene import render_scene

    images = tuple(np.asarray(render_scene(np.random.default_rng([seed, i]))[0])
                   for i in range(count))
    for image in images:
        image.setflags(write=False)  # cached and shared: nobody may draw on them
    return images


def probe_description(count: int = DEFAULT_PROBES, seed: int = DEFAULT_SEED) -> str:
    """How the probe set is named in parity reports and ``reference.json``."""
    return f"synthetic scenes seed={seed} x{count}"


def pixels_sha256(image: np.ndarray) -> str:
    """sha256 of an image's shape and RGB bytes: identifies a probe independent of encoding."""
    digest = hashlib.sha256(f"{image.shape}".encode())
    digest.update(np.ascontiguousarray(image, np.uint8).tobytes())
    return digest.hexdigest()
