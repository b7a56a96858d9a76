"""Resizing of the last two (spatial) dimensions with Core ML's sampling grids.

Bilinear: the grid point of output ``i`` is the one MIL documents for each sampling mode
(``resize_bilinear``'s notes, coremltools 9):

* ``STRICT_ALIGN_CORNERS``: ``i * (in - 1) / (out - 1)`` (0 when ``out == 1``);
* ``ALIGN_CORNERS``: the same, but ``(in - 1) / 2`` when ``out == 1``;
* ``DEFAULT``: ``i * in / out`` (TensorFlow's ``align_corners=False,
  half_pixel_centers=False``);
* ``OFFSET_CORNERS``: ``(i + 0.5) * max(1, in - 1) / out``;
* ``UNALIGN_CORNERS``: ``(i + 0.5) * in / out - 0.5`` (half-pixel centres);

clamped to ``[0, in - 1]`` and interpolated between its two neighbours. ``upsample_bilinear``
is ``STRICT_ALIGN_CORNERS`` with ``align_corners``, else ``UNALIGN_CORNERS`` (or ``DEFAULT``
with ``half_pixel_centers=False``), its output size ``floor(in * scale)``.

Nearest neighbour: ``upsample_nearest_neighbor`` reads ``floor(i * in / out)`` (PyTorch's
``nearest`` and TensorFlow's legacy mode, which coremltools maps to it);
``resize_nearest_neighbor`` and ``resize(NEAREST_NEIGHBOR)`` read the half-pixel source
``floor((i + 0.5) * in / out)`` (TensorFlow's ``half_pixel_centers=True``, which coremltools
maps to them), or the rounded aligned grid point in the align-corners modes. For integer
factors all of these agree: output ``i`` reads input ``i // factor``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import Unsupported
from exporters.formats.coreml.mil.ops.registry import f32, ints, kernel, scalar

SAMPLING_MODES = ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS",
                  "UNALIGN_CORNERS")


def grid(size_in: int, size_out: int, mode: str) -> np.ndarray:
    """Source coordinate of every output position along one axis (bilinear sampling)."""
    i = np.arange(size_out, dtype=np.float64)
    if mode in ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS"):
        if size_out == 1:
            g = np.full(1, (size_in - 1) / 2 if mode == "ALIGN_CORNERS" else 0.0)
        else:
            g = i * (size_in - 1) / (size_out - 1)
    elif mode == "DEFAULT":
        g = i * size_in / size_out
    elif mode == "OFFSET_CORNERS":
        g = (i + 0.5) * max(1, size_in - 1) / size_out
    elif mode == "UNALIGN_CORNERS":
        g = (i + 0.5) * size_in / size_out - 0.5
    else:
        raise Unsupported(f"sampling_mode {mode!r}")
    return np.clip(g, 0.0, size_in - 1)


def _linear(x: np.ndarray, axis: int, coords: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``x`` along ``axis`` at ``coords`` (already clamped)."""
    lo = np.floor(coords).astype(np.int64)
    hi = np.minimum(lo + 1, x.shape[axis] - 1)
    frac = (coords - lo).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = -1
    frac = frac.reshape(shape)
    a, b = np.take(x, lo, axis=axis), np.take(x, hi, axis=axis)
    return a + (b - a) * frac


def bilinear(x: np.ndarray, out_h: int, out_w: int, mode: str) -> np.ndarray:
    x = f32(x)
    in_h, in_w = x.shape[-2:]
    y = _linear(x, x.ndim - 2, grid(in_h, out_h, mode))
    return _linear(y, x.ndim - 1, grid(in_w, out_w, mode))


def _floor_index(size_in: int, size_out: int, half_pixel: bool) -> np.ndarray:
    i = np.arange(size_out, dtype=np.int64)
    src = (2 * i + 1) * size_in // (2 * size_out) if half_pixel else i * size_in // size_out
    return np.minimum(src, size_in - 1)


def nearest(x: np.ndarray, out_h: int, out_w: int, half_pixel: bool,
            aligned_mode: str | None = None) -> np.ndarray:
    x = np.asarray(x)
    in_h, in_w = x.shape[-2:]
    if aligned_mode:
        rows = np.floor(grid(in_h, out_h, aligned_mode) + 0.5).astype(np.int64)
        cols = np.floor(grid(in_w, out_w, aligned_mode) + 0.5).astype(np.int64)
    else:
        rows = _floor_index(in_h, out_h, half_pixel)
        cols = _floor_index(in_w, out_w, half_pixel)
    return np.take(np.take(x, rows, axis=x.ndim - 2), cols, axis=x.ndim - 1)


def _scaled(size: int, factor: Any) -> int:
    return int(np.floor(size * float(scalar(factor))))


@kernel("upsample_nearest_neighbor", selects=True)
def upsample_nearest_neighbor(x: np.ndarray, scale_factor_height: Any = 1,
                              scale_factor_width: Any = 1) -> np.ndarray:
    h, w = np.shape(x)[-2:]
    return nearest(x, _scaled(h, scale_factor_height), _scaled(w, scale_factor_width), False)


@kernel("resize_nearest_neighbor", selects=True)
def resize_nearest_neighbor(x: np.ndarray, target_size_height: Any,
                            target_size_width: Any) -> np.ndarray:
    return nearest(x, int(scalar(target_size_height)), int(scalar(target_size_width)), True)


@kernel("upsample_bilinear")
def upsample_bilinear(x: np.ndarray, scale_factor_height: Any = 1, scale_factor_width: Any = 1,
                      align_corners: Any = True, half_pixel_centers: Any = None) -> np.ndarray:
    aligned = bool(scalar(align_corners))
    half = (not aligned) if half_pixel_centers is None else bool(scalar(half_pixel_centers))
    if aligned and half:
        raise Unsupported("upsample_bilinear with both align_corners and half_pixel_centers")
    mode = "STRICT_ALIGN_CORNERS" if aligned else "UNALIGN_CORNERS" if half else "DEFAULT"
    h, w = np.shape(x)[-2:]
    return bilinear(x, _scaled(h, scale_factor_height), _scaled(w, scale_factor_width), mode)


@kernel("resize_bilinear")
def resize_bilinear(x: np.ndarray, target_size_height: Any = 1, target_size_width: Any = 1,
                    sampling_mode: str = "DEFAULT") -> np.ndarray:
    return bilinear(x, int(scalar(target_size_height)), int(scalar(target_size_width)),
                    sampling_mode)


@kernel("resize")
def resize(x: np.ndarray, shape: Any, resized_dims: Any, interpolation_mode: str = "LINEAR",
           sampling_mode: str = "DEFAULT") -> np.ndarray:
    """iOS 17 ``resize``: the last ``resized_dims`` dimensions take the last entries of
    ``shape`` (0 keeps the input size)."""
    x = np.asarray(x)
    dims = int(scalar(resized_dims))
    if dims not in (1, 2):
        raise Unsupported(f"resize of {dims} dimensions")
    target = ints(shape)[len(ints(shape)) - dims:]
    sizes = [t or x.shape[x.ndim - dims + i] for i, t in enumerate(target)]
    out_h, out_w = (sizes if dims == 2 else [x.shape[-2], sizes[0]])
    if interpolation_mode == "LINEAR":
        return bilinear(x, out_h, out_w, sampling_mode) if dims == 2 else \
            _linear(f32(x), x.ndim - 1, grid(x.shape[-1], out_w, sampling_mode))
    if interpolation_mode == "NEAREST_NEIGHBOR":
        if sampling_mode not in SAMPLING_MODES:
            raise Unsupported(f"sampling_mode {sampling_mode!r}")
        aligned = sampling_mode if sampling_mode in SAMPLING_MODES[:2] else None
        return nearest(x, out_h, out_w, True, aligned)
    raise Unsupported(f"interpolation_mode {interpolation_mode!r}")
