"""Convolutions and pooling over NC[D]HW tensors: ``conv`` (dense, grouped, depthwise),
``conv_transpose``, ``max_pool`` / ``avg_pool`` / ``l2_pool``, with MIL's pad types.

Vectorised without im2col buffers: a dense convolution is one matrix product per kernel tap
(``[C_out, C_in] @ [C_in, pixels]``, BLAS in float32), a depthwise one a per-channel
multiply-add per tap on strided views; a 1x1 stride-1 convolution is a single product.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import Unsupported
from exporters.formats.coreml.mil.ops.registry import f32, ints, kernel, scalar


def pads(pad_type: str, size: tuple[int, ...], kernel_size: tuple[int, ...],
         strides: tuple[int, ...], dilations: tuple[int, ...], custom: Any,
         ) -> list[tuple[int, int]]:
    """(begin, end) padding of each spatial dimension for MIL's ``pad_type``.

    ``same`` gives ``ceil(size / stride)`` outputs with the odd pixel of padding at the end
    (TensorFlow's SAME), ``same_lower`` puts it at the beginning; ``custom`` reads ``pad``
    as ``[begin0, end0, begin1, end1, ...]``.
    """
    if pad_type == "valid":
        return [(0, 0)] * len(size)
    if pad_type == "custom":
        amounts = ints(custom, 2 * len(size))
        return [(amounts[2 * i], amounts[2 * i + 1]) for i in range(len(size))]
    if pad_type not in ("same", "same_lower"):
        raise Unsupported(f"pad_type {pad_type!r}")
    result = []
    for n, k, s, d in zip(size, kernel_size, strides, dilations, strict=True):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, large = total // 2, total - total // 2
        result.append((small, large) if pad_type == "same" else (large, small))
    return result


def _taps(kernel_size: tuple[int, ...], strides: tuple[int, ...], dilations: tuple[int, ...],
          out_size: tuple[int, ...]):
    """(kernel index, spatial slices of the padded input) for every kernel tap."""
    for offsets in itertools.product(*(range(k) for k in kernel_size)):
        yield offsets, tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                             for o, d, s, n in zip(offsets, dilations, strides, out_size,
                                                   strict=True))


def _geometry(x: np.ndarray, kernel_size: tuple[int, ...], strides: Any, dilations: Any,
              pad_type: str, pad: Any, fill: float = 0.0, ceil_mode: bool = False):
    """Padded input, strides, dilations, output size, and the padding (begin, end) applied:
    ``pad_type``'s, plus for ``ceil_mode`` the extra end padding that keeps a last partial
    window (listed separately: averages never count it)."""
    nd = x.ndim - 2
    st, dil = ints(strides, nd, 1), ints(dilations, nd, 1)
    widths = pads(pad_type, x.shape[2:], kernel_size, st, dil, pad)
    extra = [_ceil_extra(n, b, e, k, s) if ceil_mode else 0
             for (b, e), n, k, s in zip(widths, x.shape[2:], kernel_size, st, strict=True)]
    padded = x
    if any(b or e for b, e in widths) or any(extra):
        padded = np.pad(x, [(0, 0), (0, 0), *[(b, e + m) for (b, e), m in zip(widths, extra,
                                                                               strict=True)]],
                        constant_values=fill)
    out = tuple((padded.shape[2 + i] - (kernel_size[i] - 1) * dil[i] - 1) // st[i] + 1
                for i in range(nd))
    if min(out, default=1) <= 0:
        raise ValueError(f"kernel {kernel_size} larger than the padded input {padded.shape[2:]}")
    return padded, st, dil, out, widths, extra


def _ceil_extra(size: int, begin: int, end: int, k: int, s: int) -> int:
    """End padding of ``ceil_mode`` (coremltools' rule in ``spatial_dimensions_out_shape``)."""
    padded = size + begin + end
    out = (padded - k + s - 1) // s + 1
    if (out - 1) * s >= size + begin and (begin > 0 or end > 0):
        out -= 1
    return max((out - 1) * s + k - padded, 0)


@kernel("conv")
def conv(x: np.ndarray, weight: np.ndarray, bias: Any = None, strides: Any = None,
         pad_type: str = "valid", pad: Any = None, dilations: Any = None, groups: Any = 1,
         ) -> np.ndarray:
    """``weight`` is [C_out, C_in / groups, *kernel]."""
    x, weight = f32(x), f32(weight)
    groups = int(scalar(groups))
    k = weight.shape[2:]
    padded, st, dil, out_size, _, _ = _geometry(x, k, strides, dilations, pad_type, pad)
    n, c_in = x.shape[:2]
    c_out, c_group = weight.shape[:2]
    if c_group * groups != c_in or c_out % groups:
        raise ValueError(f"weight {weight.shape} does not fit {c_in} input channels in "
                         f"{groups} groups")
    if c_group == 1 and groups > 1:  # depthwise, possibly with a channel multiplier
        out = _depthwise(padded, weight, st, dil, out_size, c_out // groups)
    elif groups == 1:
        out = _dense(padded, weight, st, dil, out_size)
    else:
        per = c_out // groups
        out = np.concatenate([_dense(padded[:, g * c_group:(g + 1) * c_group],
                                     weight[g * per:(g + 1) * per], st, dil, out_size)
                              for g in range(groups)], axis=1)
    if bias is not None:
        out += f32(bias).reshape((1, -1) + (1,) * len(out_size))
    return out


def _dense(padded: np.ndarray, weight: np.ndarray, strides, dilations, out_size) -> np.ndarray:
    n, c = padded.shape[:2]
    pixels = int(np.prod(out_size))
    out = None
    for offsets, window in _taps(weight.shape[2:], strides, dilations, out_size):
        patch = padded[(slice(None), slice(None), *window)].reshape(n, c, pixels)
        product = np.matmul(weight[(slice(None), slice(None), *offsets)], patch)
        out = product if out is None else np.add(out, product, out=out)
    return out.reshape((n, weight.shape[0], *out_size))


_BLOCK_BYTES = 96 << 10  # depthwise works on channel blocks whose output stays in cache


def _depthwise(padded: np.ndarray, weight: np.ndarray, strides, dilations, out_size,
               multiplier: int) -> np.ndarray:
    """groups == C_in: output channel o reads input channel o // multiplier.

    One multiply-add per tap on strided views, over blocks of channels small enough to stay
    in cache across the taps (measured 2x faster than whole tensors on 160x160 maps).
    """
    if multiplier > 1:
        padded = np.repeat(padded, multiplier, axis=1)
    n, c = padded.shape[:2]
    spatial = (1,) * len(out_size)
    out = np.zeros((n, c, *out_size), np.float32)
    step = max(1, _BLOCK_BYTES // (4 * n * int(np.prod(out_size))))
    product = np.empty((n, min(step, c), *out_size), np.float32)
    taps = list(_taps(weight.shape[2:], strides, dilations, out_size))
    for c0 in range(0, c, step):
        c1 = min(c, c0 + step)
        block, scratch = out[:, c0:c1], product[:, :c1 - c0]
        for offsets, window in taps:
            tap = weight[(slice(c0, c1), 0, *offsets)].reshape((1, c1 - c0) + spatial)
            np.multiply(padded[(slice(None), slice(c0, c1), *window)], tap, out=scratch)
            block += scratch
    return out


@kernel("conv_transpose")
def conv_transpose(x: np.ndarray, weight: np.ndarray, bias: Any = None, pad: Any = None,
                   output_shape: Any = None, pad_type: str = "valid", strides: Any = None,
                   dilations: Any = None, groups: Any = 1) -> np.ndarray:
    """``weight`` is [C_in, C_out / groups, *kernel]; the full (uncropped) result is built by
    scattering each tap, then cropped by the pad type (``same``: TensorFlow's crop)."""
    x, weight = f32(x), f32(weight)
    nd = x.ndim - 2
    st, dil = ints(strides, nd, 1), ints(dilations, nd, 1)
    groups = int(scalar(groups))
    n, c_in = x.shape[:2]
    size, k = x.shape[2:], weight.shape[2:]
    per_out = weight.shape[1]
    full = tuple((size[i] - 1) * st[i] + (k[i] - 1) * dil[i] + 1 for i in range(nd))
    out = np.zeros((n, per_out * groups, *full), np.float32)
    c_group = c_in // groups
    pixels = int(np.prod(size))
    for g in range(groups):
        xg = x[:, g * c_group:(g + 1) * c_group].reshape(n, c_group, pixels)
        wg = weight[g * c_group:(g + 1) * c_group]
        for offsets, window in _taps(k, st, dil, size):
            contrib = np.matmul(wg[(slice(None), slice(None), *offsets)].T, xg)
            out[(slice(None), slice(g * per_out, (g + 1) * per_out), *window)] += \
                contrib.reshape((n, per_out, *size))
    if output_shape is not None:
        wanted = ints(output_shape)[2:]
    elif pad_type == "same":
        wanted = tuple(size[i] * st[i] for i in range(nd))
    elif pad_type == "custom":
        amounts = ints(pad, 2 * nd)
        wanted = tuple(full[i] - amounts[2 * i] - amounts[2 * i + 1] for i in range(nd))
    else:
        wanted = full
    if pad_type == "same":
        begins = tuple(max(full[i] - wanted[i], 0) // 2 for i in range(nd))
    elif pad_type == "custom":
        begins = ints(pad, 2 * nd)[0::2]
    else:
        begins = (0,) * nd
    out = _crop(out, begins, wanted)
    if bias is not None:
        out += f32(bias).reshape((1, -1) + (1,) * nd)
    return out


def _crop(out: np.ndarray, begins: tuple[int, ...], sizes: tuple[int, ...]) -> np.ndarray:
    """``sizes`` elements from ``begins`` of each spatial dimension, zeros past the end."""
    ends = [b + s for b, s in zip(begins, sizes, strict=True)]
    extra = [max(e - n, 0) for e, n in zip(ends, out.shape[2:], strict=True)]
    if any(extra):
        out = np.pad(out, [(0, 0), (0, 0), *[(0, e) for e in extra]])
    return out[(slice(None), slice(None), *(slice(b, e) for b, e in zip(begins, ends,
                                                                          strict=True)))]


def _pool(x: np.ndarray, kernel_sizes: Any, strides: Any, pad_type: str, pad: Any,
          ceil_mode: Any, fill: float):
    return _geometry(f32(x), ints(kernel_sizes), strides, None, pad_type, pad, fill,
                     bool(scalar(ceil_mode)))


@kernel("max_pool", selects=True)
def max_pool(x: np.ndarray, kernel_sizes: Any, strides: Any = None, pad_type: str = "valid",
             pad: Any = None, ceil_mode: Any = False) -> np.ndarray:
    padded, st, dil, out_size, _, _ = _pool(x, kernel_sizes, strides, pad_type, pad,
                                            ceil_mode, -np.inf)
    out = None
    for _, window in _taps(ints(kernel_sizes), st, dil, out_size):
        view = padded[(slice(None), slice(None), *window)]
        out = view.copy() if out is None else np.maximum(out, view)
    return out


@kernel("avg_pool")
def avg_pool(x: np.ndarray, kernel_sizes: Any, strides: Any = None, pad_type: str = "valid",
             pad: Any = None, exclude_padding_from_average: Any = False, ceil_mode: Any = False,
             ) -> np.ndarray:
    """The divisor counts the input pixels of each window, plus the ``pad_type`` padding
    unless ``exclude_padding_from_average``; never the ``ceil_mode`` extra."""
    k = ints(kernel_sizes)
    padded, st, dil, out_size, widths, extra = _pool(x, kernel_sizes, strides, pad_type, pad,
                                                     ceil_mode, 0.0)
    total = _window_sum(padded, k, st, dil, out_size)
    counted = np.ones((1, 1, *np.shape(x)[2:]), np.float32)
    if not scalar(exclude_padding_from_average):
        counted = np.pad(counted, [(0, 0), (0, 0), *widths], constant_values=1.0)
        widths = [(0, 0)] * len(widths)
    counted = np.pad(counted, [(0, 0), (0, 0), *[(b, e + m) for (b, e), m in
                                                 zip(widths, extra, strict=True)]])
    return total / _window_sum(counted, k, st, dil, out_size)


@kernel("l2_pool")
def l2_pool(x: np.ndarray, kernel_sizes: Any, strides: Any = None, pad_type: str = "valid",
            pad: Any = None, ceil_mode: Any = False) -> np.ndarray:
    padded, st, dil, out_size, _, _ = _pool(x, kernel_sizes, strides, pad_type, pad,
                                            ceil_mode, 0.0)
    return np.sqrt(_window_sum(padded * padded, ints(kernel_sizes), st, dil, out_size))


def _window_sum(padded: np.ndarray, k, st, dil, out_size) -> np.ndarray:
    out = np.zeros(padded.shape[:2] + tuple(out_size), np.float32)
    for _, window in _taps(k, st, dil, out_size):
        out += padded[(slice(None), slice(None), *window)]
    return out
