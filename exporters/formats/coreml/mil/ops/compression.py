"""Constants and compressed weights: ``const`` and the ``constexpr_*`` ops coremltools writes
for ``coremltools.optimize.coreml`` (linear quantization, palettization, sparsity).

All run once, when the program is loaded (their inputs are constants). Both generations
are covered: the iOS 16 ops (``constexpr_affine_dequantize``, ``constexpr_lut_to_dense`` with
bit-packed ``indices`` and a ``shape``, ``constexpr_sparse_to_dense`` with a packed mask,
``constexpr_cast``) written for deployment targets up to iOS 17, and the iOS 18 ops
(``constexpr_blockwise_shift_scale``, per-block / vector ``constexpr_lut_to_dense``,
``constexpr_sparse_to_dense`` with a uint1 mask) written for iOS 18 and later.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import Unsupported
from exporters.formats.coreml.mil.ops.registry import f32, ints, kernel, scalar
from exporters.formats.coreml.mil.reader import unpack_bits


@kernel("const", selects=True)
def const(val: Any) -> Any:
    return val


def _along(v: Any, rank: int, axis: int) -> np.ndarray:
    """A scalar, or a vector laid along ``axis`` of a rank-``rank`` tensor."""
    v = np.asarray(v)
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    shape = [1] * rank
    shape[axis] = -1
    return v.reshape(shape)


@kernel("constexpr_affine_dequantize")
def constexpr_affine_dequantize(quantized_data: np.ndarray, zero_point: Any, scale: Any,
                                axis: Any) -> np.ndarray:
    """``(quantized_data - zero_point) * scale``, per tensor or per channel along ``axis``."""
    q = np.asarray(quantized_data)
    axis = int(scalar(axis)) % q.ndim
    zp = _along(zero_point, q.ndim, axis).astype(np.float32)
    return (q.astype(np.float32) - zp) * f32(_along(scale, q.ndim, axis))


@kernel("dequantize")
def dequantize(input: np.ndarray, scale: Any, zero_point: Any = None,  # noqa: A002 (MIL name)
               axis: Any = None) -> np.ndarray:
    """iOS 17 activation dequantization: ``(input - zero_point) * scale``."""
    q = np.asarray(input).astype(np.float32)
    ax = 0 if axis is None else int(scalar(axis)) % q.ndim
    out = q if zero_point is None else q - _along(zero_point, q.ndim, ax).astype(np.float32)
    return out * f32(_along(scale, q.ndim, ax))


@kernel("constexpr_cast")
def constexpr_cast(source_val: np.ndarray, output_dtype: str) -> np.ndarray:
    if output_dtype not in ("fp16", "fp32"):
        raise Unsupported(f"constexpr_cast to {output_dtype!r}")
    return f32(source_val)


def _block_index(data_shape: tuple[int, ...], table_shape: tuple[int, ...]) -> tuple:
    """Open index arrays mapping each data position to its block in a per-block table."""
    index = []
    for axis, (n, t) in enumerate(zip(data_shape, table_shape, strict=True)):
        if n % t:
            raise ValueError(f"axis {axis}: {n} elements do not split into {t} blocks")
        shape = [1] * len(data_shape)
        shape[axis] = n
        index.append((np.arange(n) // (n // t)).reshape(shape))
    return tuple(index)


@kernel("constexpr_blockwise_shift_scale")
def constexpr_blockwise_shift_scale(data: np.ndarray, scale: np.ndarray, offset: Any = None,
                                    ) -> np.ndarray:
    """``scale * (data - offset)``; ``scale`` (and ``offset``) hold one value per block, the
    block size of axis i being ``data.shape[i] / scale.shape[i]``."""
    data = np.asarray(data)
    blocks = _block_index(data.shape, np.shape(scale))
    values = data.astype(np.float32)
    if offset is not None:
        values = values - np.asarray(offset).astype(np.float32)[blocks]
    return f32(scale)[blocks] * values


@kernel("constexpr_lut_to_dense")
def constexpr_lut_to_dense(lut: np.ndarray, indices: np.ndarray, shape: Any = None,
                           vector_axis: Any = None) -> np.ndarray:
    """Palettized weights: each index picks a value (or a vector) from its look-up table.

    iOS 16: ``lut`` is one table of 2^n values, ``indices`` n-bit values packed into bytes
    (least significant bit first) and ``shape`` the output shape. iOS 18: ``indices`` is
    unpacked with the output's rank, ``lut`` is [*blocks, 2^n, vector size].
    """
    lut = np.asarray(lut)
    if shape is not None:  # iOS 16
        bits = int(np.log2(lut.size))
        if 1 << bits != lut.size:
            raise ValueError(f"look-up table of {lut.size} entries is not a power of two")
        out_shape = ints(shape)
        flat = unpack_bits(np.asarray(indices, np.uint8).reshape(-1), bits,
                           int(np.prod(out_shape)))
        return lut.reshape(-1)[flat].reshape(out_shape)
    idx = np.asarray(indices).astype(np.int64)
    k = idx.ndim
    picked = lut[(*_block_index(idx.shape, lut.shape[:k]), idx)]  # [*indices.shape, V]
    vector = lut.shape[-1]
    if vector == 1:
        return picked[..., 0]
    if vector_axis is None:
        raise ValueError("vector palettization without vector_axis")
    axis = int(scalar(vector_axis)) % k
    out_shape = list(idx.shape)
    out_shape[axis] *= vector
    return np.moveaxis(picked, -1, axis + 1).reshape(out_shape)


@kernel("constexpr_sparse_to_dense")
def constexpr_sparse_to_dense(nonzero_data: np.ndarray, mask: np.ndarray,
                              shape: Any = None) -> np.ndarray:
    """Zeros except where the mask is set, filled in order from ``nonzero_data``.

    iOS 16: ``mask`` is a bit mask packed into bytes (least significant bit first) with the
    output ``shape``; iOS 18: ``mask`` is a uint1 tensor of the output's shape.
    """
    data = np.asarray(nonzero_data)
    if shape is not None:
        out_shape = ints(shape)
        bits = np.unpackbits(np.asarray(mask, np.uint8), bitorder="little")
        mask = bits[:int(np.prod(out_shape))].reshape(out_shape)
    mask = np.asarray(mask).astype(bool)
    out = np.zeros(mask.shape, data.dtype)
    out[mask] = data
    return out
