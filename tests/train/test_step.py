"""The optimizer of ``sdk train``: Keras' AdamW + warm-up cosine, built to trace fast."""

from __future__ import annotations

import numpy as np
import pytest


def test_schedule_has_the_values_of_keras_cosine_decay():
    import keras

    from sdk.train.step import warmup_cosine

    ours = warmup_cosine(6e-3, warmup_steps=300, decay_steps=6000)
    keras_schedule = keras.optimizers.schedules.CosineDecay(
        0.0, 6000, alpha=0.01, warmup_target=6e-3, warmup_steps=300)
    for step in (0, 1, 150, 299, 300, 301, 3000, 6299, 6300, 9000):
        np.testing.assert_allclose(float(ours(step)), float(keras_schedule(step)), rtol=1e-5,
                                   atol=1e-9, err_msg=f"step {step}")


def test_no_warmup_starts_at_the_peak():
    from sdk.train.step import warmup_cosine

    assert float(warmup_cosine(1e-3, warmup_steps=0, decay_steps=10)(0)) == pytest.approx(1e-3)


def test_optimizer_steps_like_keras_adamw():
    """Same updates as Keras' AdamW (weight decay, clipping, schedule) over a few steps."""
    import keras
    import tensorflow as tf

    from sdk.train.loop import TrainOptions
    from sdk.train.step import make_optimizer

    opts = TrainOptions(learning_rate=1e-2, warmup_steps=2, clipnorm=0.5, weight_decay=1e-2)
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") * 3 for w in start] for _ in range(4)]

    def run(optimizer):
        variables = [tf.Variable(w) for w in start]
        optimizer.build(variables)
        step = tf.function(lambda g: optimizer.apply_gradients(zip(g, variables, strict=True)))
        for g in grads:
            step([tf.constant(x) for x in g])
        return [v.numpy() for v in variables]

    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, 8, alpha=0.01, warmup_target=1e-2, warmup_steps=2)
    want = run(keras.optimizers.AdamW(schedule, weight_decay=1e-2, clipnorm=0.5))
    got = run(make_optimizer(opts, total_steps=10))
    for a, b in zip(want, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
