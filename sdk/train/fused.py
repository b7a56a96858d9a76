"""A training-speed copy of a detector: same layers, weights and outputs, cheaper CPU kernels.

Profiling the train step (``benchmarks/train_step_profile.py``) showed two costs that the
arithmetic does not need:

* Keras 3 computes training-mode batch norm from separate moments / multiply / add ops,
  whose gradients (Tile, Mul, SquaredDifference) took about half of the step's op time.
  TensorFlow's ``FusedBatchNormV3`` and its gradient do the same work in one kernel each.
* Keras' MobileNetV2 pads explicitly (``ZeroPadding2D``) before each stride-2 depthwise
  conv with ``valid`` padding; the pad and its gradient (a Slice) copy the largest
  activations of the network. For a 3x3, stride-2 conv ``same`` padding adds exactly the
  same zeros (bottom/right for even sizes, both sides for odd), so the pad can go.

Under a strategy of several replicas the copy's batch norm is Keras' synchronized one
(statistics of the global batch, all-reduced across replicas), which the fused kernel
cannot compute: there the copy keeps only the pad removal (``batch_norm_kind`` says which).
For mixed precision the copy computes in ``mixed_float16``; its variables stay float32.

Only the training loop uses the copy. Its weights line up one to one with the canonical
model's (``get_weights`` order), which is what checkpoints, weight files and exports are
made from: Keras names saved weights after layer classes, so the copy's own files would
not load into the canonical model.
"""

from __future__ import annotations

import keras
from keras import layers


class FusedBatchNormalization(layers.BatchNormalization):
    """Keras' batch norm, computed in training by TensorFlow's fused kernel.

    The batch statistics, the moving-average update and inference are Keras' own.
    """

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable and self._fusable(inputs, mask)):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        # the kernel takes float32 scale/offset also for bfloat16 inputs (mixed precision)
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones_like(self.moving_mean)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros_like(self.moving_mean)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=self.epsilon, is_training=True)
        # the kernel returns the unbiased (n - 1) variance; Keras' moments are biased
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), variance.dtype)
        variance = variance * (n - 1.0) / tf.maximum(n, 1.0)
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        return y

    def _fusable(self, inputs, mask) -> bool:
        return (keras.backend.backend() == "tensorflow" and mask is None
                and len(inputs.shape) == 4 and self.axis in (-1, 3)
                and not self.renorm and not self.synchronized
                and keras.backend.standardize_dtype(inputs.dtype)
                in ("float32", "bfloat16", "float16"))


def _padded_depthwise(model: keras.Model) -> dict[str, str]:
    """3x3 stride-2 ``valid`` depthwise convs fed only by a ZeroPadding2D: {conv: pad} names."""
    found = {}
    for layer in model.layers:
        if not (isinstance(layer, layers.DepthwiseConv2D) and layer.padding == "valid"
                and tuple(layer.strides) == (2, 2) and tuple(layer.kernel_size) == (3, 3)):
            continue
        parent = layer._inbound_nodes[0].parent_nodes[0].operation
        if isinstance(parent, layers.ZeroPadding2D) and len(parent._outbound_nodes) == 1:
            found[layer.name] = parent.name
    return found


def batch_norm_kind(synchronized: bool) -> str:
    """How the training copy computes batch norm (recorded in the model card)."""
    return ("Keras synchronized (global-batch statistics; no fused kernel)" if synchronized
            else "fused kernel")


def for_training(model: keras.Model, synchronized: bool = False,
                 dtype: str | None = None) -> keras.Model:
    """A copy of functional ``model`` with the same weights and outputs, fused batch norm and
    pad-free stride-2 depthwise convs; ``model.set_weights(copy.get_weights())`` syncs back.

    ``synchronized``: batch norm over the global batch of all replicas (Keras' kernels);
    ``dtype``: a compute policy for every layer, e.g. ``"mixed_float16"``."""
    padded = _padded_depthwise(model)
    pads = set(padded.values())

    def clone(layer):
        config = layer.get_config()
        if dtype is not None:
            config["dtype"] = dtype
        if type(layer) is layers.BatchNormalization:
            config["synchronized"] = synchronized
            return FusedBatchNormalization.from_config(config)
        if layer.name in pads:
            return layers.Identity(name=layer.name, **({"dtype": dtype} if dtype else {}))
        if layer.name in padded:
            config["padding"] = "same"
        return layer.__class__.from_config(config)

    fast = keras.models.clone_model(model, clone_function=clone)
    fast.set_weights(model.get_weights())
    return fast
