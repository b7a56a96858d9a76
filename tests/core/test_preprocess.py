"""The one preprocessing function and its inverse."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.preprocess import fit, letterbox_boxes, normalize, preprocess, unletterbox_boxes
from sdk.spec import InputSpec


def test_letterbox_pads_and_centres():
    spec = InputSpec(size=(100, 100))
    image = np.full((50, 100, 3), 200, np.uint8)
    x, box = preprocess(image, spec)
    assert x.shape == (1, 100, 100, 3) and x.dtype == np.float32
    assert box.pad_y == 25 and box.pad_x == 0 and box.scale_x == 1.0
    np.testing.assert_allclose(x[0, 0, 0], (114 - 127.5) / 127.5)  # pad row
    np.testing.assert_allclose(x[0, 50, 50], (200 - 127.5) / 127.5)


@pytest.mark.parametrize("resize", ["letterbox", "stretch"])
def test_box_mapping_round_trips(resize):
    spec = InputSpec(size=(96, 128), resize=resize)
    geom = fit(640, 360, spec)
    boxes = np.array([[10, 20, 300, 200], [0, 0, 640, 360]], np.float32)
    np.testing.assert_allclose(unletterbox_boxes(letterbox_boxes(boxes, geom), geom), boxes,
                               atol=1e-3)


def test_integer_input_quantization():
    spec = InputSpec(size=(2, 2), dtype="int8", quant_scale=1 / 128, quant_zero_point=0)
    q = normalize(np.array([[[0, 255, 191]]], np.uint8), spec)  # [-1, 1, 0.498] -> x * 128
    assert q.dtype == np.int8 and q.tolist() == [[[-128, 127, 64]]]  # 128 saturates


def _broadcast_normalize(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """The textbook arithmetic normalize() must equal bit for bit (it is only faster)."""
    x = pixels.astype(np.float32)
    if spec.channel_order == "BGR":
        x = x[..., ::-1]
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    if spec.dtype == "float32":
        return x
    info = np.iinfo(np.dtype(spec.dtype))
    q = np.round(x / spec.quant_scale + spec.quant_zero_point)
    return np.clip(q, info.min, info.max).astype(spec.dtype)


@pytest.mark.parametrize("spec", [
    InputSpec(size=(8, 8)),
    InputSpec(size=(8, 8), channel_order="BGR", mean=(123.7, 116.3, 103.5), std=(58.4, 57.1, 57.4)),
    InputSpec(size=(8, 8), mean=(0, 0, 0), std=(255, 255, 255)),
    InputSpec(size=(8, 8), dtype="int8", quant_scale=0.0078125, quant_zero_point=-1),
    InputSpec(size=(8, 8), dtype="uint8", channel_order="BGR", mean=(100, 110, 120),
              std=(50, 60, 70), quant_scale=0.02, quant_zero_point=128),
])
def test_normalize_is_bit_exact(spec):
    pixels = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    fast, reference = normalize(pixels, spec), _broadcast_normalize(pixels, spec)
    assert fast.dtype == reference.dtype and fast.shape == reference.shape
    assert fast.flags.c_contiguous and fast.tobytes() == reference.tobytes()


def test_rejects_non_rgb_uint8():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        preprocess(np.zeros((4, 4), np.uint8), InputSpec(size=(4, 4)))
