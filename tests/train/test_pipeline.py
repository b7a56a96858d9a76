"""Both input pipelines make the same batches from the same code; shards split a batch."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.data import load_dataset
from sdk.train.batches import Augment
from sdk.train.pipeline import PIPELINES, make_pipeline

pytestmark = pytest.mark.slow  # TensorFlow's tf.data


@pytest.fixture(scope="module")
def setting(tiny_data):
    from sdk.models import default_config

    data = load_dataset(tiny_data, "train")
    return data, default_config("fast", data.classes, input_size=96)


def _first(kind: str, setting, **kwargs):
    data, cfg = setting
    return next(make_pipeline(kind, data, cfg, 4, seed=3, **kwargs).numpy())


def test_without_augmentation_both_pipelines_make_the_same_first_batch(setting):
    thread, tfdata = (_first(kind, setting, aug=Augment.none()) for kind in PIPELINES)
    for a, b, name in zip(thread, tfdata, ("inputs", "box targets", "class targets"),
                          strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert thread[0].shape == (4, 96, 96, 3) and (thread[2] >= 0).any()  # some positives


@pytest.mark.parametrize("kind", PIPELINES)
def test_worker_shards_are_the_halves_of_the_global_batch(setting, kind):
    whole = _first(kind, setting, aug=Augment.none())
    halves = [_first(kind, setting, aug=Augment.none(), shard=(i, 2)) for i in range(2)]
    for part, name in enumerate(("inputs", "box targets", "class targets")):
        np.testing.assert_array_equal(np.concatenate([h[part] for h in halves]), whole[part],
                                      err_msg=name)


def test_tfdata_augments_the_same_whatever_the_parallelism(setting):
    from sdk.train.pipeline import TfDataPipeline

    data, cfg = setting
    serial, parallel = (next(TfDataPipeline(data, cfg, 4, seed=5, parallel=n).numpy())
                        for n in (1, 4))
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)
    plain = _first("tfdata", setting, aug=Augment.none())
    assert not np.array_equal(serial[0], plain[0])  # augmentation did change the pixels
