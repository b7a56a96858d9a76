"""Input conversion: arrays, PIL images and paths become HxWx3 uint8 RGB, and the RGB image
becomes the model input in place (``preprocess_into``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sdk.data import DataError
from sdk.preprocess import preprocess, preprocess_into
from sdk.runtime.images import to_rgb
from sdk.spec import InputSpec


def test_gray_and_rgba_arrays_become_rgb():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_rgb(gray).shape == (3, 4, 3) and (to_rgb(gray)[..., 2] == gray).all()
    rgba = np.zeros((3, 4, 4), np.uint8)
    assert to_rgb(rgba).shape == (3, 4, 3)


def test_pil_modes_are_converted():
    assert to_rgb(Image.new("L", (5, 4), 7)).shape == (4, 5, 3)
    assert to_rgb(Image.new("RGBA", (5, 4))).dtype == np.uint8


@pytest.mark.parametrize("bad, error", [
    (np.zeros((4, 4, 3), np.float32), "uint8"),
    (np.zeros((4, 4, 2), np.uint8), "shape"),
    (np.zeros((0, 4, 3), np.uint8), "shape"),
])
def test_bad_arrays_are_refused(bad, error):
    with pytest.raises(ValueError, match=error):
        to_rgb(bad)


def test_unsupported_type_and_missing_file(tmp_path):
    with pytest.raises(TypeError, match="unsupported image type"):
        to_rgb([1, 2, 3])
    with pytest.raises(DataError, match="not found"):
        to_rgb(tmp_path / "missing.jpg")


@pytest.mark.parametrize("spec", [
    InputSpec(size=(64, 64)),
    InputSpec(size=(48, 80), resize="stretch"),
    InputSpec(size=(40, 56), channel_order="BGR", mean=(123.7, 116.3, 103.5),
              std=(58.4, 57.1, 57.4)),
    InputSpec(size=(64, 64), dtype="int8", quant_scale=0.0078125, quant_zero_point=-1),
    InputSpec(size=(64, 64), dtype="uint8", mean=(0, 0, 0), std=(1, 1, 1), quant_scale=1,
              quant_zero_point=0),
    InputSpec(size=(32, 48), dtype="uint8", channel_order="BGR", mean=(0, 0, 0), std=(1, 1, 1),
              quant_scale=1, quant_zero_point=0),
])
def test_preprocess_into_writes_what_preprocess_returns(spec):
    """Into a reused, dirty buffer (an engine's input tensor): bit for bit preprocess(),
    padding included, for frames bigger, smaller and equal to the model input."""
    rng = np.random.default_rng(0)
    out = np.empty((1, *spec.size, 3), np.dtype(spec.dtype))
    for shape in [(480, 640), (640, 480), (20, 90), spec.size, (spec.size[0] // 2, spec.size[1])]:
        image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        out[...] = rng.integers(0, 100, out.shape).astype(out.dtype)
        expected, box = preprocess(image, spec)
        assert preprocess_into(image, spec, out) == box
        assert out.tobytes() == expected.tobytes()


def test_preprocess_into_refuses_a_buffer_of_another_shape_or_dtype():
    image = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="64x64x3 float32"):
        preprocess_into(image, InputSpec(size=(64, 64)), np.empty((1, 32, 64, 3), np.float32))
    with pytest.raises(ValueError, match="64x64x3 float32"):
        preprocess_into(image, InputSpec(size=(64, 64)), np.empty((1, 64, 64, 3), np.uint8))
