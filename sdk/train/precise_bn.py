"""Re-estimate batch-norm moving statistics for the final weights ("precise BN").

The moving averages collected during training lag behind weights that kept changing; a
few forward passes over training batches with a running-average momentum make them the
exact mean over those batches for the weights being shipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

DEFAULT_BATCHES = 30


def recalibrate_batchnorm(net, batches: Iterator[tuple[np.ndarray, ...]],
                          count: int = DEFAULT_BATCHES) -> None:
    """Replace every BN layer's moving mean/variance by their average over ``count`` batches."""
    from keras import layers

    bns = [layer for layer in net.layers if isinstance(layer, layers.BatchNormalization)]
    saved = [bn.momentum for bn in bns]
    try:
        for i in range(count):
            for bn in bns:  # moving = moving * i/(i+1) + batch / (i+1): a running mean
                bn.momentum = i / (i + 1)
            net(next(batches)[0], training=True)
    finally:
        for bn, momentum in zip(bns, saved, strict=True):
            bn.momentum = momentum


def recalibrate_model_dir(model_dir, data_dir, images: int = 480, batch_size: int = 16) -> None:
    """Recalibrate the BN statistics of a saved detector folder in place (interim bundles)."""
    import dataclasses

    from sdk.data import load_dataset
    from sdk.models.io import WEIGHTS_FILE, load_detector
    from sdk.train.batches import BatchStream

    net, cfg, path = load_detector(model_dir)
    data = load_dataset(data_dir, "train")
    subset = dataclasses.replace(data, samples=data.samples[:images])
    recalibrate_batchnorm(net, iter(BatchStream(subset, cfg, batch_size, seed=0)))
    net.save_weights(path / WEIGHTS_FILE)
