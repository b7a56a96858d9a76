"""The fixed probe set every artifact is compared on.

With ``--data`` the probes are the first images of the evaluation split (real data, the
same for every export); without, a deterministic set of synthetic scenes rendered by
:mod:`sdk.data.scene` (same seed -> same pixels), so parity runs with no dataset at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdk.data import Dataset, load_image

DEFAULT_COUNT = 8  # enough to see a broken export, cheap enough to run through Node/LiteRT


@dataclass(frozen=True)
class ProbeSet:
    """Images (HxWx3 uint8 RGB) and a description recorded in the parity report."""

    images: tuple[np.ndarray, ...]
    description: str


def probe_set(dataset: Dataset | None = None, count: int = DEFAULT_COUNT, seed: int = 0,
              ) -> ProbeSet:
    """The first ``count`` images of ``dataset``, or ``count`` synthetic scenes."""
    if dataset is not None and dataset.samples:
        samples = dataset.samples[:count]
        return ProbeSet(tuple(load_image(s.image_path) for s in samples),
                        f"{dataset.root.name}/{dataset.split}[:{len(samples)}]")
    from sdk.probes import synthetic_probes  # the same probes as the device benchmark

    return ProbeSet(synthetic_probes(count, seed), f"synthetic scenes seed={seed} x{count}")
