"""Detection losses: SSD (softmax + hard negative mining) and RetinaNet (focal).

Targets come from :func:`sdk.anchors.build_targets`: ``cls_t`` holds the label for
positives, -1 for background and -2 for ignored anchors. Which classification loss a model
trains with is its config's detection head (:data:`sdk.models.heads.HEADS`).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from sdk.models.heads import Head

NEG_POS_RATIO = 3  # SSD's hard negative mining ratio
MIN_NEGATIVES = 8  # keep learning "background" on images with no objects


def box_loss(codes, box_t, positive):
    """Huber loss on the regression codes of positive anchors, summed."""
    huber = tf.keras.losses.Huber(delta=1.0, reduction="none")
    per_anchor = huber(box_t[..., None], codes[..., None])  # [B, N, 4]
    per_anchor = tf.reduce_sum(per_anchor, -1)
    return tf.reduce_sum(per_anchor * positive)


def softmax_ohem_loss(logits, cls_t):
    """Softmax cross-entropy over (background + C) with 3:1 hard negative mining, summed."""
    labels = tf.where(cls_t >= 0, cls_t + 1, 0)  # background -> column 0
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    positive = tf.cast(cls_t >= 0, ce.dtype)
    negative = tf.cast(cls_t == -1, ce.dtype)
    num_pos = tf.reduce_sum(positive, axis=1, keepdims=True)
    k = tf.maximum(NEG_POS_RATIO * num_pos, MIN_NEGATIVES)
    neg_ce = ce * negative
    # rank of each anchor among this image's negatives, by loss (0 = hardest)
    order = tf.argsort(neg_ce, axis=1, direction="DESCENDING")
    rank = tf.cast(tf.argsort(order, axis=1), ce.dtype)
    hard = tf.cast(rank < k, ce.dtype) * negative
    return tf.reduce_sum(ce * (positive + hard))


def focal_loss(logits, cls_t, alpha: float = 0.25, gamma: float = 2.0):
    """Sigmoid focal loss (Lin et al.) over all non-ignored anchors, summed."""
    onehot = tf.one_hot(tf.maximum(cls_t, 0), logits.shape[-1]) * tf.cast(
        cls_t >= 0, tf.float32)[..., None]
    ce = tf.nn.sigmoid_cross_entropy_with_logits(labels=onehot, logits=logits)
    p = tf.sigmoid(logits)
    p_t = onehot * p + (1 - onehot) * (1 - p)
    alpha_t = onehot * alpha + (1 - onehot) * (1 - alpha)
    loss = alpha_t * tf.pow(1 - p_t, gamma) * ce
    valid = tf.cast(cls_t >= -1, tf.float32)[..., None]
    return tf.reduce_sum(loss * valid)


# Head.loss -> loss(logits, cls_t), summed over the batch.
CLASSIFICATION_LOSSES: dict[str, Callable] = {"softmax_ohem": softmax_ohem_loss,
                                              "focal": focal_loss}


def detection_loss(head: Head, codes, logits, box_t, cls_t, norm=None):
    """Total loss normalized by the number of positive anchors; returns (total, box, cls).

    ``norm`` overrides that count: a replica of a distributed step passes the positives of
    the global batch, so the replicas' losses add up to the loss of the whole batch."""
    positive = tf.cast(cls_t >= 0, tf.float32)
    if norm is None:
        norm = tf.maximum(tf.reduce_sum(positive), 1.0)
    loc = box_loss(codes, box_t, positive) / norm
    cls = CLASSIFICATION_LOSSES[head.loss](logits, cls_t) / norm
    return loc + cls, loc, cls
