"""The optimizer and the compiled train step, on one device or across replicas."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sdk.models.config import DetectorConfig
    from sdk.train.loop import TrainOptions


def _optimizer_class():
    import keras

    class ReplicaSummedAdamW(keras.optimizers.AdamW):
        """AdamW for gradients the train step has already summed across replicas.

        Keras clips each replica's partial gradient and sums them afterwards; the train
        step sums first, so ``clipnorm`` acts on the gradient of the whole batch, as on
        one device. (On one device the sum is the identity either way.)"""

        def _all_reduce_sum_gradients(self, grads_and_vars):
            return list(grads_and_vars)

    return ReplicaSummedAdamW


def make_optimizer(opts: TrainOptions, total_steps: int, mixed_precision: bool = False):
    """AdamW on a linear-warmup + cosine schedule over ``total_steps``, clipped gradients;
    wrapped in Keras' dynamic loss scaling for ``mixed_float16``."""
    import keras

    decay = max(1, total_steps - opts.warmup_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay, alpha=0.01, warmup_target=opts.learning_rate,
        warmup_steps=opts.warmup_steps)
    optimizer = _optimizer_class()(schedule, weight_decay=opts.weight_decay,
                                   clipnorm=opts.clipnorm)
    return keras.optimizers.LossScaleOptimizer(optimizer) if mixed_precision else optimizer


def inner_optimizer(optimizer):
    """The optimizer whose state a checkpoint keeps (loss scaling re-adapts in a few steps,
    so checkpoints move between float32 and mixed-precision runs)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _replica_step(net, optimizer, cfg: DetectorConfig):
    """One replica's forward, backward and update; losses are this replica's share."""
    import tensorflow as tf

    from sdk.train.losses import detection_loss

    def step(x, box_t, cls_t):
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync
        norm = None
        if replicas > 1:  # normalise by the positives of the global batch, as one device does
            positives = tf.reduce_sum(tf.cast(cls_t >= 0, tf.float32))
            norm = tf.maximum(ctx.all_reduce("sum", positives), 1.0)
        with tf.GradientTape() as tape:
            codes, logits = net(x, training=True)
            # losses in float32 also when a mixed-precision model computes in (b)float16
            codes, logits = tf.cast(codes, tf.float32), tf.cast(logits, tf.float32)
            total, loc, cls = detection_loss(cfg.detection_head, codes, logits, box_t, cls_t,
                                             norm=norm)
            scaled = optimizer.scale_loss(total)
        grads = tape.gradient(scaled, net.trainable_variables)
        if replicas > 1:
            grads = ctx.all_reduce("sum", grads)
        optimizer.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return total, loc, cls

    return step


def make_train_step(net, optimizer, cfg: DetectorConfig, jit_compile: bool = False):
    """One compiled optimizer step on a batch; returns (total, box, class) losses.

    ``jit_compile`` (XLA) is off for training: on this project's CPUs it made Fast's step
    5.5x slower (MODELS.md); ``benchmarks/train_probe.py`` can try it again (``jit=1``)."""
    import tensorflow as tf

    return tf.function(_replica_step(net, optimizer, cfg), reduce_retracing=True,
                       jit_compile=jit_compile)


def make_distributed_step(strategy, net, optimizer, cfg: DetectorConfig):
    """The train step under ``strategy``: takes per-replica batches (from a distributed
    dataset), returns the losses of the global batch."""
    import tensorflow as tf

    replica = _replica_step(net, optimizer, cfg)

    @tf.function
    def step(batch):
        losses = strategy.run(replica, args=tuple(batch))
        return tuple(strategy.reduce("SUM", v, axis=None) for v in losses)

    return step
