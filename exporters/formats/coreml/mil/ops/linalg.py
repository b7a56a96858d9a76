"""Matrix products: ``matmul`` (numpy broadcasting of batch dimensions), ``linear``, ``einsum``."""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.ops.registry import ensure_list, f32, kernel, scalar


@kernel("matmul")
def matmul(x: np.ndarray, y: np.ndarray, transpose_x: Any = False, transpose_y: Any = False,
           ) -> np.ndarray:
    x, y = f32(x), f32(y)
    if scalar(transpose_x):
        x = np.swapaxes(x, -1, -2)
    if scalar(transpose_y):
        y = np.swapaxes(y, -1, -2)
    return np.matmul(x, y)


@kernel("linear")
def linear(x: np.ndarray, weight: np.ndarray, bias: Any = None) -> np.ndarray:
    """``weight`` is [D_out, D_in]: ``x @ weight.T + bias``."""
    out = np.matmul(f32(x), f32(weight).T)
    return out if bias is None else out + f32(bias)


@kernel("einsum")
def einsum(values: list, equation: str) -> np.ndarray:
    return np.einsum(equation, *[f32(v) for v in ensure_list(values)])
