"""Round float32 arrays to the nearest float16 value, kept in float32 ("widened" fp16).

Bit for bit what ``x.astype(np.float16).astype(np.float32)`` gives (round to nearest, ties
to even, float16 subnormals, overflow to inf, NaN kept), in place and without the two
conversions: whole-array integer operations on the float32 bit patterns (measured 1.2-1.4x
faster than numpy's element-by-element float16 conversion on 2.4 M values). Every float16
op result of a program goes through it.
"""

from __future__ import annotations

import numpy as np

_SIGN_OFF = np.uint32(0x7FFFFFFF)
_KEEP = np.uint32(0xFFFFE000)  # sign, exponent and the 10 mantissa bits float16 keeps
_HALF_ULP = np.uint32(0x0FFF)  # half a float16 ulp minus one: exact ties add the lowest bit
_TINY_BITS = np.uint32(0x38800000 - 1)  # (bits of 2**-14, smallest normal float16) - 1
_OVERFLOW_BITS = np.uint32(0x477FF000)  # 65520: rounds to 65536, past float16's max 65504
_SUBNORMAL_STEP = np.float32(2.0 ** -24)  # float16 subnormals are multiples of 2**-24


def round_fp16(x: np.ndarray, inplace: bool = False) -> np.ndarray:
    """``x`` rounded to float16 precision and range, as float32; in place when ``inplace``
    and ``x`` is a C-contiguous float32 array."""
    if inplace and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable:
        out = x
    else:
        out = np.array(x, np.float32, order="C", copy=True)
    flat = out.reshape(-1)
    if not flat.size:
        return out
    bits = flat.view(np.uint32)
    scratch = np.bitwise_and(bits, _SIGN_OFF)  # magnitudes: ordered like the float values
    huge = None
    if scratch.max() >= _OVERFLOW_BITS:  # inf, NaN and values rounding past 65504
        huge = np.flatnonzero(scratch >= _OVERFLOW_BITS)
        huge_values = flat[huge]
    scratch -= np.uint32(1)  # 0 wraps to the largest value: only non-zero tiny values count
    tiny = None
    if scratch.min() < _TINY_BITS:  # float16 subnormals: rounded on their own grid below
        tiny = np.flatnonzero(scratch < _TINY_BITS)
        tiny_values = flat[tiny]
    # Round the mantissa to 10 bits: add half an ulp (plus the kept lowest bit, so exact
    # ties go to even), then clear the 13 dropped bits; a carry bumps the exponent.
    np.right_shift(bits, np.uint32(13), out=scratch)
    scratch &= np.uint32(1)
    scratch += _HALF_ULP
    bits += scratch
    bits &= _KEEP
    if tiny is not None:
        flat[tiny] = np.rint(tiny_values / _SUBNORMAL_STEP) * _SUBNORMAL_STEP
    if huge is not None:
        flat[huge] = np.where(np.isnan(huge_values), huge_values,
                              np.copysign(np.float32(np.inf), huge_values))
    return out
