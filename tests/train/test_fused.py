"""The training copy (fused batch norm, pad-free stride-2 convs) computes what Keras computes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import TINY_SIZE


def _bn_pass(bn, x, w):
    import tensorflow as tf

    bn.build(x.shape)
    bn.gamma.assign(np.linspace(0.5, 2.0, x.shape[-1]))
    bn.beta.assign(np.linspace(-1.0, 1.0, x.shape[-1]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = bn(x, training=True)
        loss = tf.reduce_sum(y * w)
    grads = tape.gradient(loss, [x, bn.gamma, bn.beta])
    return [t.numpy() for t in (y, *grads, bn.moving_mean, bn.moving_variance)]


def test_fused_batch_norm_matches_keras_in_training():
    import tensorflow as tf
    from keras import layers

    from sdk.train.fused import FusedBatchNormalization

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, (6, 5, 7, 4)).astype("float32"))
    w = tf.constant(rng.normal(0.0, 1.0, (6, 5, 7, 4)).astype("float32"))
    want = _bn_pass(layers.BatchNormalization(momentum=0.9), x, w)
    got = _bn_pass(FusedBatchNormalization(momentum=0.9), x, w)
    for name, a, b in zip(("y", "dx", "dgamma", "dbeta", "moving_mean", "moving_var"), want, got,
                          strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=name)


def test_fused_batch_norm_runs_the_fused_kernel_under_mixed_bfloat16():
    """``train_step_profile.py --bf16`` compares like with like: bf16 keeps the fused kernel."""
    import keras
    import tensorflow as tf

    from sdk.train.fused import FusedBatchNormalization

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(2.0, 3.0, (6, 5, 7, 4)).astype("float32"))
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        bn = FusedBatchNormalization(momentum=0.9)
        bn.build(x.shape)
        step = tf.function(lambda t: bn(tf.cast(t, tf.bfloat16), training=True))
        ops = {op.type for op in step.get_concrete_function(x).graph.get_operations()}
        y = step(x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert "FusedBatchNormV3" in ops and "SquaredDifference" not in ops
    assert y.dtype == tf.bfloat16
    normalized = (x.numpy() - x.numpy().mean((0, 1, 2))) / x.numpy().std((0, 1, 2))
    np.testing.assert_allclose(y.numpy().astype("float32"), normalized, atol=0.05)


@pytest.mark.parametrize("arch", ["fast", "accurate"])
def test_training_copy_has_the_same_weights_and_outputs(arch, request):
    from keras import layers

    from sdk.models.io import load_detector
    from sdk.train.fused import FusedBatchNormalization, for_training

    net, cfg, _ = load_detector(request.getfixturevalue(f"tiny_{arch}"))
    copy = for_training(net)
    assert not any(isinstance(layer, layers.ZeroPadding2D) for layer in copy.layers)
    bns = [layer for layer in copy.layers if isinstance(layer, layers.BatchNormalization)]
    assert bns and all(isinstance(layer, FusedBatchNormalization) for layer in bns)
    assert [w.shape for w in copy.get_weights()] == [w.shape for w in net.get_weights()]

    x = np.random.default_rng(1).uniform(-1, 1, (8, TINY_SIZE, TINY_SIZE, 3)).astype("float32")
    for a, b in zip(net(x), copy(x), strict=True):  # inference: bit-for-bit the same graph
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-6)
    # Training mode: tiny Fast's last extra layers are 1x1, so their batch norm normalizes
    # 8 values and magnifies the kernels' different rounding (measured up to 2e-3).
    for a, b in zip(net(x, training=True), copy(x, training=True), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-2)


def test_train_step_graph_uses_the_fused_kernels(tiny_fast, tiny_data):
    from sdk.data import load_dataset
    from sdk.models.io import load_detector
    from sdk.train.batches import BatchStream
    from sdk.train.fused import for_training
    from sdk.train.loop import TrainOptions, make_optimizer, make_train_step

    net, cfg, _ = load_detector(tiny_fast)
    step = make_train_step(for_training(net), make_optimizer(TrainOptions(), 10), cfg)
    batch = next(iter(BatchStream(load_dataset(tiny_data, "train"), cfg, 2, seed=0)))
    ops = {op.type for op in step.get_concrete_function(*batch).graph.get_operations()}
    assert {"FusedBatchNormV3", "FusedBatchNormGradV3"} <= ops
    assert "Pad" not in ops and "SquaredDifference" not in ops
