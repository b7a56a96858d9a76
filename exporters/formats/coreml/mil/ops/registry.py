"""The kernel table (MIL op type -> numpy function) and helpers to read op arguments.

A kernel takes the op's inputs as keyword arguments (tensors as numpy arrays, scalars as 0-d
arrays, strings as ``str``; tuple inputs such as ``concat``'s ``values`` as lists) and returns
one array or a tuple of arrays. Float16 tensors arrive widened to float32 (their values exactly
representable in fp16); the program rounds every result to the op's declared output type, so
kernels compute in float32 and never round themselves. Optional inputs are keyword defaults
equal to the MIL defaults, so a program that omits them runs the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Kernel = Callable[..., Any]
KERNELS: dict[str, Kernel] = {}
# Ops whose float results are input (or constant) values moved or selected, never computed:
# on float16 inputs they are float16 already, so the program skips rounding them.
SELECTING: set[str] = set()


def kernel(*op_types: str, selects: bool = False) -> Callable[[Kernel], Kernel]:
    """Register the decorated function as the kernel of ``op_types``.

    ``selects``: every float it returns is one of its float inputs' values (reshape, relu6,
    max_pool...), so float16 results need no rounding.
    """

    def register(fn: Kernel) -> Kernel:
        for op_type in op_types:
            if op_type in KERNELS:
                raise ValueError(f"two kernels for MIL op {op_type!r}")
            KERNELS[op_type] = fn
            if selects:
                SELECTING.add(op_type)
        return fn

    return register


def f32(x: Any) -> np.ndarray:
    """A tensor as float32 (fp16 values arrive widened already; ints are converted)."""
    return np.asarray(x, np.float32)


def scalar(x: Any) -> Any:
    """A 0-d (or single-element) argument as a Python number or bool."""
    return np.asarray(x).reshape(-1)[0].item()


def ints(x: Any, count: int | None = None, default: int = 0) -> tuple[int, ...]:
    """An integer vector argument; ``None`` becomes ``count`` copies of ``default``."""
    if x is None:
        return (default,) * (count or 0)
    return tuple(int(v) for v in np.asarray(x).reshape(-1))


def axes_of(x: Any, rank: int) -> tuple[int, ...] | None:
    """A (possibly negative) axes argument normalised to ``0 <= axis < rank``; None = all."""
    if x is None:
        return None
    return tuple(sorted(a % rank for a in ints(x)))


def per_channel(v: Any, rank: int, axis: int = 1) -> np.ndarray:
    """A [C] vector shaped to broadcast along ``axis`` of a rank-``rank`` tensor."""
    shape = [1] * rank
    shape[axis] = -1
    return f32(v).reshape(shape)


def ensure_list(values: Any) -> Sequence[np.ndarray]:
    return values if isinstance(values, list | tuple) else [values]
