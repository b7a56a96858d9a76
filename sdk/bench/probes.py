"""The fixed probe images every benchmark and parity check runs on.

Real-looking scenes, not zeros: NMS cost depends on how many boxes survive. Rendered by
the synthetic dataset's scene generator, so the same seed gives the same pixels anywhere.
"""

from __future__ import annotations

import numpy as np

DEFAULT_PROBES = 8


def synthetic_probes(count: int = DEFAULT_PROBES, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``count`` deterministic HxWx3 uint8 RGB scenes of the synthetic dataset's classes."""
    from sdk.data.scene import render_scene

    return tuple(np.asarray(render_scene(np.random.default_rng([seed, i]))[0])
                 for i in range(count))
