"""Whatever the caller has (array, PIL image, path) -> HxWx3 uint8 RGB, the one input format."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def to_rgb(image: Any) -> np.ndarray:
    """Return ``image`` as an ``H x W x 3`` uint8 RGB array.

    Accepts a path (decoded with its EXIF orientation applied), a PIL image, or a uint8
    numpy array that is HxWx3 RGB, HxW gray or HxWx4 RGBA (alpha dropped). Arrays and PIL
    images are used as given: boxes refer to their pixels.

    Raises:
        TypeError: unsupported type.
        ValueError: an array of the wrong dtype or shape.
        sdk.data.DataError: a path that is missing or not a decodable image.
    """
    if isinstance(image, str | os.PathLike):
        from sdk.data.images import load_image

        return load_image(image)
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image)
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL, without importing it
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    raise TypeError(f"unsupported image type {type(image).__name__}: pass a path, a PIL image "
                    f"or an HxWx3 uint8 RGB numpy array")


def _array_to_rgb(image: np.ndarray) -> np.ndarray:
    # Floats are refused rather than guessed: 0..1 and 0..255 are both common.
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image array, got {image.dtype} (scale to 0..255 "
                         f"and cast with .astype(np.uint8))")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 0:
        return np.ascontiguousarray(image[..., :3])
    raise ValueError(f"expected an HxWx3 RGB (or HxW gray, HxWx4 RGBA) array, got shape "
                     f"{image.shape}")
