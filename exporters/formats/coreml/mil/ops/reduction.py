"""Reductions over ``axes`` (all when not given) with ``keep_dims``, and arg-reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.ops.registry import axes_of, f32, kernel, scalar

_REDUCE = {
    "reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
    "reduce_prod": np.prod,
    "reduce_l1_norm": lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims),
    "reduce_l2_norm": lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis,
                                                               keepdims=keepdims)),
    "reduce_sum_square": lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims),
    "reduce_log_sum": lambda x, axis, keepdims: np.log(np.sum(x, axis=axis, keepdims=keepdims)),
    "reduce_log_sum_exp": lambda x, axis, keepdims: _log_sum_exp(x, axis, keepdims),
}


def _log_sum_exp(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _reduction(fn: Any) -> Any:
    def run(x: np.ndarray, axes: Any = None, keep_dims: Any = False) -> np.ndarray:
        x = np.asarray(x)
        axis = axes_of(axes, x.ndim) if x.ndim else None
        data = x if x.dtype.kind in "iub" and fn in (np.max, np.min) else f32(x)
        return fn(data, axis=axis, keepdims=bool(scalar(keep_dims)))

    return run


for _name, _fn in _REDUCE.items():
    kernel(_name, selects=_name in ("reduce_max", "reduce_min"))(_reduction(_fn))


@kernel("reduce_argmax")
def reduce_argmax(x: np.ndarray, axis: Any = -1, keep_dims: Any = False,
                  output_dtype: Any = "int32") -> np.ndarray:
    """The first index of the maximum (numpy's and TensorFlow's tie rule)."""
    out = np.argmax(x, axis=int(scalar(axis)), keepdims=bool(scalar(keep_dims)))
    return out.astype(np.int32)


@kernel("reduce_argmin")
def reduce_argmin(x: np.ndarray, axis: Any = -1, keep_dims: Any = False,
                  output_dtype: Any = "int32") -> np.ndarray:
    out = np.argmin(x, axis=int(scalar(axis)), keepdims=bool(scalar(keep_dims)))
    return out.astype(np.int32)
