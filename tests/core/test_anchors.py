"""Anchor generator, box coder and matcher."""

from __future__ import annotations

import numpy as np

from sdk.anchors import AnchorLevel, Matcher, build_targets, decode, encode, generate_anchors


def test_anchor_count_and_order_follow_the_feature_grid():
    level = AnchorLevel(stride=32, size=64, scales=(1.0,), ratios=(1.0, 2.0))
    anchors = generate_anchors((level,), (96, 64))
    assert anchors.shape == (3 * 2 * 2, 4)  # 3x2 grid, 2 anchors per cell
    # first cell centre is (0.5/2, 0.5/3); the two anchors share it
    centre = (anchors[:2, :2] + anchors[:2, 2:]) / 2
    np.testing.assert_allclose(centre, [[0.25, 1 / 6], [0.25, 1 / 6]], atol=1e-6)
    # ratio 2 is wider than tall
    w, h = anchors[1, 2] - anchors[1, 0], (anchors[1, 3] - anchors[1, 1])
    assert w * 64 > h * 96


def test_encode_decode_round_trip():
    rng = np.random.default_rng(0)
    anchors = generate_anchors((AnchorLevel(16, 32), AnchorLevel(32, 64)), (128, 128))
    xy = rng.uniform(0, 0.7, (len(anchors), 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.05, 0.3, (len(anchors), 2))], 1)
    np.testing.assert_allclose(decode(encode(boxes, anchors), anchors), boxes, atol=1e-5)


def test_matcher_forces_tiny_objects_onto_their_best_anchor():
    anchors = generate_anchors((AnchorLevel(32, 64),), (128, 128))
    tiny = np.array([[0.1, 0.1, 0.12, 0.12]], np.float32)  # overlaps no anchor at 0.4
    matches = Matcher(0.5, 0.4).match(anchors, tiny)
    assert (matches == 0).sum() == 1


def test_targets_mark_positive_ignored_and_background():
    anchors = np.array([[0, 0, .5, .5], [0, 0, .45, .5], [.5, .5, 1, 1], [0, 0, .3, .5]],
                       np.float32)
    gt = np.array([[0, 0, .5, .5]], np.float32)
    box_t, cls_t = build_targets(anchors, Matcher(0.7, 0.4), gt, np.array([3]))
    assert cls_t.tolist() == [3, 3, -1, -2]  # IoU 1.0, 0.9, 0.0, 0.6
    np.testing.assert_allclose(box_t[0], 0, atol=1e-5)


def test_no_objects_means_all_background():
    anchors = generate_anchors((AnchorLevel(32, 64),), (64, 64))
    _, cls_t = build_targets(anchors, Matcher(), np.zeros((0, 4), np.float32),
                             np.zeros(0, np.int64))
    assert (cls_t == -1).all()
