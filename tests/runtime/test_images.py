"""Input conversion: arrays, PIL images and paths become HxWx3 uint8 RGB."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sdk.data import DataError
from sdk.runtime.images import to_rgb


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
