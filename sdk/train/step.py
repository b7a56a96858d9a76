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
        one device. (On one device the sum is the identity either way.) Same updates as
        Keras' AdamW otherwise (``tests/train/test_step.py``)."""

        def _all_reduce_sum_gradients(self, grads_and_vars):
            return list(grads_and_vars)

        def _apply_weight_decay(self, variables):
            # Keras' version evaluates the learning-rate schedule once per variable; once
            # is enough, and a few thousand fewer ops make the step trace much faster.
            if self.weight_decay is None:
                return
            import tensorflow as tf

            decay = tf.cast(self.learning_rate, tf.float32) * self.weight_decay
            targets = [v.value if isinstance(v, keras.Variable) else v
                       for v in variables if self._use_weight_decay(v)]

            def apply(distribution, targets):
                for var in targets:
                    distribution.extended.update(
                        var, lambda v: v.assign_sub(v * tf.cast(decay, v.dtype)), group=False)

            tf.__internal__.distribute.interim.maybe_merge_call(
                apply, self._distribution_strategy, targets)

    return ReplicaSummedAdamW


def warmup_cosine(peak: float, warmup_steps: int, decay_steps: int, alpha: float = 0.01):
    """Linear warm-up from 0 to ``peak``, then cosine decay to ``alpha * peak``.

    The values of Keras' ``CosineDecay(0, decay_steps, alpha, warmup_target=peak,
    warmup_steps=...)``, computed without a ``cond``: Keras' AdamW evaluates the schedule
    once per variable for weight decay, and ~470 ``cond`` sub-graphs made tracing the train
    step take minutes on a loaded 2-core CPU."""
    import math

    import keras
    from keras import ops

    class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = ops.minimum(ops.cast(step, "float32"), float(decay_steps + warmup_steps))
            warm = peak * step / float(max(warmup_steps, 1))
            done = ops.maximum(step - warmup_steps, 0.0) / float(decay_steps)
            cosine = 0.5 * (1.0 + ops.cos(math.pi * done))
            return ops.where(step < warmup_steps, warm, peak * ((1 - alpha) * cosine + alpha))

        def get_config(self):
            return {"peak": peak, "warmup_steps": warmup_steps, "decay_steps": decay_steps,
                    "alpha": alpha}

    return WarmupCosine()


def make_optimizer(opts: TrainOptions, total_steps: int, mixed_precision: bool = False):
    """AdamW on a linear-warmup + cosine schedule over ``total_steps``, clipped gradients;
    wrapped in Keras' dynamic loss scaling for ``mixed_float16``."""
    import keras

    decay = max(1, total_steps - opts.warmup_steps)
    schedule = warmup_cosine(opts.learning_rate, opts.warmup_steps, decay)
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
