"""Each decoder on small constructed tensors whose canonical boxes/scores are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from importers.config import Fields
from importers.decoders import DECODERS, get_decoder
from importers.errors import ImportConfigError

tf = pytest.importorskip("tensorflow")


def make(name: str, params: dict, input_size: tuple[int, int], num_classes: int):
    raw = {"name": name, **params}
    return get_decoder(name)(Fields(raw, "test.json", "decoder"), input_size, num_classes)


def run(decoder, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    boxes, scores = decoder.decode({k: tf.constant(v, tf.float32) for k, v in outputs.items()})
    return boxes.numpy(), scores.numpy()


def test_every_registered_decoder_loads():
    for name in DECODERS:
        assert get_decoder(name).name == name


# -- gfl ------------------------------------------------------------------------------------

def one_hot_bins(sides: list[int], reg_max: int) -> np.ndarray:
    """Distribution logits putting (almost) all mass on bin ``sides[k]`` for side k."""
    logits = np.full((4, reg_max + 1), -50.0, np.float32)
    logits[np.arange(4), sides] = 50.0
    return logits.reshape(-1)


def test_gfl_known_boxes_centres_and_clipping():
    # 16x16 input, stride 8 -> 2x2 cells, centres (4, 4), (12, 4), (4, 12), (12, 12);
    # stride 16 -> 1 cell, centre (8, 8). reg_max 2: distances are 0, 1 or 2 strides.
    params = {"reg_max": 2, "levels": [
        {"stride": 8, "scores": "c8", "distributions": "r8"},
        {"stride": 16, "scores": "c16", "distributions": "r16"}]}
    dec = make("gfl", params, (16, 16), 2)
    r8 = np.zeros((1, 4, 12), np.float32)  # uniform: expectation 1 bin -> 8 px every side
    r8[0, 0] = one_hot_bins([1, 0, 2, 1], 2)  # cell (0, 0): l 8, t 0, r 16, b 8
    r16 = one_hot_bins([0, 0, 0, 0], 2)[None, None]  # a point box at the centre
    c8 = np.arange(8, dtype=np.float32).reshape(1, 4, 2) / 10
    c16 = np.array([[[0.9, 0.1]]], np.float32)
    boxes, scores = run(dec, {"c8": c8, "r8": r8, "c16": c16, "r16": r16})
    expected_px = np.array([
        [0, 4, 16, 12],  # (4-8, 4-0, 4+16, 4+8) clamped to [0, 16]
        [4, 0, 16, 12],  # centre (12, 4) +- 8, clamped
        [0, 4, 12, 16],  # centre (4, 12)
        [4, 4, 16, 16],  # centre (12, 12)
        [8, 8, 8, 8],
    ], np.float32)
    np.testing.assert_allclose(boxes[0], expected_px / 16, atol=1e-5)
    np.testing.assert_allclose(scores[0], np.concatenate([c8[0], c16[0]]), atol=0)
    assert dec.check({"c8": (1, 4, 2), "r8": (1, 4, 12), "c16": (1, 1, 2),
                      "r16": (1, 1, 12)}) == 5


def test_gfl_without_clipping_and_with_logit_scores():
    params = {"reg_max": 2, "clip": False, "scores_activated": False,
              "levels": [{"stride": 8, "scores": "c", "distributions": "r"}]}
    dec = make("gfl", params, (8, 8), 1)
    r = one_hot_bins([2, 2, 2, 2], 2)[None, None]  # 16 px each side of centre (4, 4)
    boxes, scores = run(dec, {"c": np.array([[[0.0]]]), "r": r})
    np.testing.assert_allclose(boxes[0, 0], np.array([-12, -12, 20, 20]) / 8, atol=1e-5)
    np.testing.assert_allclose(scores[0, 0, 0], 0.5, atol=1e-6)


def test_gfl_soft_distribution_is_the_expectation():
    # softmax of logits (0, ln 3) over 2 bins = (0.25, 0.75): expectation 0.75 of a stride.
    params = {"reg_max": 1, "levels": [{"stride": 32, "scores": "c", "distributions": "r"}]}
    dec = make("gfl", params, (64, 64), 1)
    r = np.tile(np.array([0.0, math.log(3.0)], np.float32), 4)[None, None].repeat(4, 1)
    boxes, _ = run(dec, {"c": np.zeros((1, 4, 1)), "r": r})
    np.testing.assert_allclose(boxes[0, 0] * 64, [0, 0, 40, 40], atol=1e-4)  # clamped at 0
    np.testing.assert_allclose(boxes[0, 3] * 64, [24, 24, 64, 64], atol=1e-4)


def test_gfl_shape_mismatch_names_the_level_field():
    params = {"reg_max": 10, "levels": [{"stride": 8, "scores": "c", "distributions": "r"}]}
    dec = make("gfl", params, (416, 416), 80)
    with pytest.raises(ImportConfigError, match=r"decoder.levels\[0\].distributions"):
        dec.check({"c": (1, 2704, 80), "r": (1, 2704, 68)})
    with pytest.raises(ImportConfigError, match=r"decoder.levels\[0\].scores.*52x52"):
        dec.check({"c": (1, 676, 80), "r": (1, 2704, 44)})


# -- yolo -----------------------------------------------------------------------------------

def test_yolo_known_box_both_layouts():
    # input 8 high, 16 wide; cx 8, cy 4, w 4, h 2 px -> (6, 3, 10, 5) px.
    pred = np.array([[8, 1], [4, 1], [4, 2], [2, 2], [0.9, 0.2], [0.1, 0.3]], np.float32)
    for layout, tensor in (("features_first", pred[None]), ("anchors_first", pred.T[None])):
        dec = make("yolo", {"predictions": "p", "layout": layout, "box_units": "pixels"},
                   (8, 16), 2)
        boxes, scores = run(dec, {"p": tensor})
        np.testing.assert_allclose(boxes[0, 0], [6 / 16, 3 / 8, 10 / 16, 5 / 8], atol=1e-6)
        np.testing.assert_allclose(scores[0], pred[4:].T, atol=0)


def test_yolo_matches_the_runtime_output_kind():
    """The in-graph decode has the semantics of sdk.output_kinds.yolo_to_canonical."""
    from sdk.output_kinds import yolo_to_canonical
    from sdk.spec import OutputSpec

    rng = np.random.default_rng(0)
    pred = rng.uniform(0, 1, (1, 7, 50)).astype(np.float32)
    pred[:, :4] *= 320
    spec = OutputSpec(kind="yolo", predictions="p", layout="features_first", box_units="pixels")
    want_boxes, want_scores = yolo_to_canonical(pred, spec, 3, (320, 256))
    dec = make("yolo", {"predictions": "p", "layout": "features_first", "box_units": "pixels"},
               (320, 256), 3)
    boxes, scores = run(dec, {"p": pred})
    np.testing.assert_allclose(boxes[0], want_boxes, atol=1e-6)
    np.testing.assert_array_equal(scores[0], want_scores)


def test_yolo_wrong_class_count_names_the_field():
    dec = make("yolo", {"predictions": "p", "layout": "features_first",
                        "box_units": "normalized"}, (64, 64), 80)
    with pytest.raises(ImportConfigError, match=r"decoder.predictions.*\[1, 4\+C, N\]"):
        dec.check({"p": (1, 7, 100)})


# -- ssd ------------------------------------------------------------------------------------

def test_ssd_faster_rcnn_coder_known_answer():
    # One 32 px cell, one 16 px square anchor: (y, x, h, w) = (0.5, 0.5, 0.5, 0.5).
    params = {"box_encodings": "e", "scores": "s", "score_activation": "softmax",
              "background_class": True,
              "anchors": {"levels": [{"stride": 32, "sizes": [16]}]}}
    dec = make("ssd", params, (32, 32), 1)
    np.testing.assert_allclose(dec.anchors, [[0.5, 0.5, 0.5, 0.5]])
    # ty = 1 -> yc = 1/10 * 0.5 + 0.5 = 0.55; th = 5 ln 2 -> h = 1.0; tx = tw = 0 -> unchanged.
    enc = np.array([[[[1.0, 0.0, 5 * math.log(2.0), 0.0]]]], np.float32)  # [1, N, 1, 4]
    logits = np.array([[[0.0, math.log(3.0)]]], np.float32)  # softmax -> background 0.25
    boxes, scores = run(dec, {"e": enc, "s": logits})
    np.testing.assert_allclose(boxes[0, 0], [0.25, 0.05, 0.75, 1.05], atol=1e-6)
    np.testing.assert_allclose(scores[0, 0], [0.75], atol=1e-6)
    assert dec.check({"e": (1, 1, 1, 4), "s": (1, 1, 2)}) == 1


def test_ssd_grid_anchor_order_and_file(tmp_path):
    # 2x2 cells of a 32x32 input at stride 16, two sizes x two ratios: (y, x, size, ratio).
    params = {"box_encodings": "e", "scores": "s",
              "anchors": {"levels": [{"stride": 16, "sizes": [8, 16],
                                      "aspect_ratios": [1.0, 4.0]}]}}
    dec = make("ssd", params, (32, 32), 1)
    assert dec.anchors.shape == (16, 4)
    np.testing.assert_allclose(dec.anchors[:4], [[0.25, 0.25, 0.25, 0.25],
                                                 [0.25, 0.25, 0.125, 0.5],
                                                 [0.25, 0.25, 0.5, 0.5],
                                                 [0.25, 0.25, 0.25, 1.0]])
    np.testing.assert_allclose(dec.anchors[4:8, :2], [[0.25, 0.75]] * 4)  # then x moves
    np.save(tmp_path / "anchors.npy", dec.anchors)
    from_file = get_decoder("ssd")(Fields(
        {"name": "ssd", "box_encodings": "e", "scores": "s", "anchors": {"file": "anchors.npy"}},
        str(tmp_path / "cfg.json"), "decoder"), (32, 32), 1)
    np.testing.assert_array_equal(from_file.anchors, dec.anchors)
    boxes, scores = run(from_file, {"e": np.zeros((1, 16, 4)), "s": np.zeros((1, 16, 1))})
    np.testing.assert_allclose(boxes[0, 1], [0.0, 0.1875, 0.5, 0.3125], atol=1e-6)
    np.testing.assert_allclose(scores, 0.5)  # sigmoid by default


def test_ssd_anchor_count_mismatch_names_the_field():
    params = {"box_encodings": "e", "scores": "s",
              "anchors": {"levels": [{"stride": 16, "sizes": [8]}]}}
    dec = make("ssd", params, (32, 32), 3)
    with pytest.raises(ImportConfigError, match=r"decoder.box_encodings.*gives 4"):
        dec.check({"e": (1, 5, 4), "s": (1, 5, 3)})


def test_ssd_unreadable_anchor_file_names_the_field(tmp_path):
    (tmp_path / "a.json").write_text("[[1, 2, 3]]")
    with pytest.raises(ImportConfigError, match=r"decoder.anchors.file.*\[N, 4\]"):
        get_decoder("ssd")(Fields({"name": "ssd", "box_encodings": "e", "scores": "s",
                                   "anchors": {"file": "a.json"}},
                                  str(tmp_path / "c.json"), "decoder"), (32, 32), 1)


# -- canonical ------------------------------------------------------------------------------

def test_canonical_yxyx_pixels_become_normalized_xyxy():
    dec = make("canonical", {"boxes": "b", "scores": "s", "box_order": "yxyx",
                             "box_units": "pixels"}, (100, 200), 2)
    boxes, scores = run(dec, {"b": np.array([[[10, 20, 50, 100]]]),
                              "s": np.array([[[0.2, 0.7]]])})
    np.testing.assert_allclose(boxes[0, 0], [0.1, 0.1, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(scores[0, 0], [0.2, 0.7], atol=1e-6)


def test_unknown_decoder_parameter_is_refused():
    with pytest.raises(ImportConfigError, match=r"test.json: field 'decoder' has unknown keys "
                                                r"\['regmax'\]"):
        make("gfl", {"regmax": 10, "levels": []}, (64, 64), 1)
