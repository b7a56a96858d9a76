"""Training input pipelines: the background thread and ``tf.data``, one interface.

Both yield global (per-worker) batches ``(inputs, box targets, class targets)`` made by the
same numpy code (:func:`sdk.train.batches.augment_sample`, :func:`sdk.anchors.build_targets`,
:func:`sdk.preprocess.normalize`), so they differ only in how the work is scheduled:

* ``thread`` (:class:`~sdk.train.batches.BatchStream`): decodes every image once into
  memory, then one background thread augments and assigns targets while the model trains.
* ``tfdata``: a ``tf.data`` graph: shuffled indices, then decode (Pillow, EXIF orientation
  applied), augmentation and target assignment in parallel map calls, batched and
  prefetched. Images are decoded again each epoch, so memory does not grow with the
  dataset. Each image draws its augmentation from its own seed (run seed, position in the
  stream), so the batches do not depend on how the parallel calls are scheduled.

``python -m benchmarks.input_pipeline`` measures both; :data:`DEFAULT` is the faster on the
project's 2-core CPU (figures in BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from sdk.data import Dataset, load_image
from sdk.models.config import DetectorConfig
from sdk.train.distribute import DEFAULT_INPUT_PIPELINE as DEFAULT
from sdk.train.distribute import INPUT_PIPELINES as PIPELINES

__all__ = ["DEFAULT", "PIPELINES", "InputPipeline", "TfDataPipeline", "ThreadPipeline",
           "make_pipeline"]

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

    from sdk.train.batches import Augment

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def _signature(cfg: DetectorConfig, batch: int | None):
    import tensorflow as tf

    from sdk.anchors import generate_anchors

    h, w = cfg.input_size
    n = len(generate_anchors(cfg.levels, cfg.input_size))
    return (tf.TensorSpec((batch, h, w, 3), tf.float32), tf.TensorSpec((batch, n, 4), tf.float32),
            tf.TensorSpec((batch, n), tf.int32))


class InputPipeline:
    """Batches for training: as numpy arrays (one device) or as a ``tf.data.Dataset``
    (a strategy distributes it and prefetches to its devices)."""

    def numpy(self) -> Iterator[Batch]:
        raise NotImplementedError

    def dataset(self) -> tf.data.Dataset:
        raise NotImplementedError


class ThreadPipeline(InputPipeline):
    """The background-thread stream (:class:`sdk.train.batches.BatchStream`)."""

    def __init__(self, data: Dataset, cfg: DetectorConfig, batch_size: int,
                 seed: int | list[int], aug: Augment | None = None,
                 shard: tuple[int, int] = (0, 1)):
        from sdk.train.batches import BatchStream

        self.cfg, self.local = cfg, batch_size // shard[1]
        self.stream = BatchStream(data, cfg, batch_size, seed=seed, aug=aug, shard=shard)

    def numpy(self) -> Iterator[Batch]:
        return iter(self.stream)

    def dataset(self) -> tf.data.Dataset:
        import tensorflow as tf

        return tf.data.Dataset.from_generator(
            self.numpy, output_signature=_signature(self.cfg, self.local))


class TfDataPipeline(InputPipeline):
    """Decode, augmentation and targets as parallel ``tf.data`` map calls."""

    def __init__(self, data: Dataset, cfg: DetectorConfig, batch_size: int,
                 seed: int | list[int], aug: Augment | None = None,
                 shard: tuple[int, int] = (0, 1), parallel: int | None = None):
        from sdk.anchors import Matcher, generate_anchors
        from sdk.train.batches import Augment

        index, count = shard
        if batch_size % count:
            raise ValueError(f"batch size {batch_size} does not split over {count} workers")
        self.data, self.cfg, self.batch_size = data, cfg, batch_size
        self.aug, self.shard, self.parallel = aug or Augment(), shard, parallel
        self.order_seed = seed  # the thread stream's shuffles, for the same seed
        self.seed = [int(s) for s in np.atleast_1d(seed)]
        self.anchors = generate_anchors(cfg.levels, cfg.input_size)
        self.matcher = Matcher(cfg.matcher_positive, cfg.matcher_negative)

    def _orders(self) -> Iterator[np.ndarray]:
        """This worker's indices of every global batch: one shuffle per epoch, remainder
        dropped (as the thread stream does)."""
        rng = np.random.default_rng(self.order_seed)
        n, (index, count) = len(self.data.samples), self.shard
        local = self.batch_size // count
        while True:
            order = rng.permutation(n)
            for start in range(0, n - self.batch_size + 1, self.batch_size):
                yield order[start + index * local:start + (index + 1) * local]

    def _example(self, position: np.int64, index: np.int64) -> Batch:
        from sdk.anchors import build_targets
        from sdk.preprocess import normalize
        from sdk.train.batches import augment_sample

        sample = self.data.samples[int(index)]
        rng = np.random.default_rng([*self.seed, self.shard[0], int(position)])
        pixels, boxes, labels = augment_sample(load_image(sample.image_path), sample.boxes,
                                               sample.labels, self.cfg, self.aug, rng)
        box_t, cls_t = build_targets(self.anchors, self.matcher, boxes, labels)
        return normalize(pixels, self.cfg.input_spec), box_t, cls_t

    def dataset(self) -> tf.data.Dataset:
        import tensorflow as tf

        x_spec, box_spec, cls_spec = _signature(self.cfg, None)
        local = self.batch_size // self.shard[1]

        def example(position, index):
            x, b, c = tf.numpy_function(self._example, [position, index],
                                        [tf.float32, tf.float32, tf.int32], stateful=False)
            return (tf.ensure_shape(x, x_spec.shape[1:]), tf.ensure_shape(b, box_spec.shape[1:]),
                    tf.ensure_shape(c, cls_spec.shape[1:]))

        calls = self.parallel or tf.data.AUTOTUNE
        orders = tf.data.Dataset.from_generator(
            self._orders, output_signature=tf.TensorSpec((local,), tf.int64))
        return (orders.unbatch().enumerate()
                .map(example, num_parallel_calls=calls, deterministic=True)
                .batch(local, drop_remainder=True)
                .prefetch(tf.data.AUTOTUNE))

    def numpy(self) -> Iterator[Batch]:
        return iter(self.dataset().as_numpy_iterator())


def make_pipeline(kind: str, data: Dataset, cfg: DetectorConfig, batch_size: int,
                  seed: int | list[int], aug: Augment | None = None,
                  shard: tuple[int, int] = (0, 1)) -> InputPipeline:
    """The ``kind`` pipeline (one of :data:`PIPELINES`) over ``data``."""
    if kind not in PIPELINES:
        raise ValueError(f"input pipeline {kind!r}: choose one of {list(PIPELINES)}")
    cls = ThreadPipeline if kind == "thread" else TfDataPipeline
    return cls(data, cfg, batch_size, seed=seed, aug=aug, shard=shard)
