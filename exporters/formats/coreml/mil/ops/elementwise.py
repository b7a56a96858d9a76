"""Element-wise MIL ops: arithmetic with numpy broadcasting, math functions, comparisons,
activations, ``clip``, ``select`` and ``cast``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import Unsupported
from exporters.formats.coreml.mil.ops.registry import f32, kernel, per_channel, scalar

# -- binary arithmetic (MIL broadcasting is numpy's) ----------------------------------------
_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "real_div": np.true_divide,
    "floor_div": np.floor_divide, "mod": np.mod, "pow": np.power, "maximum": np.maximum,
    "minimum": np.minimum, "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}


def _binary(fn: Any) -> Any:
    def run(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return fn(x, y)

    return run


for _name, _fn in _BINARY.items():
    kernel(_name, selects=_name in ("maximum", "minimum"))(_binary(_fn))


# -- unary math -----------------------------------------------------------------------------
def _erf(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf
    except ImportError:  # scipy comes with scikit-learn (export extra); plain math otherwise
        return np.vectorize(math.erf, otypes=[np.float64])(x)
    return erf(x)


_UNARY = {
    "abs": np.abs, "acos": np.arccos, "asin": np.arcsin, "atan": np.arctan, "atanh": np.arctanh,
    "ceil": np.ceil, "cos": np.cos, "cosh": np.cosh, "erf": _erf, "exp": np.exp,
    "exp2": np.exp2, "floor": np.floor, "round": np.round,  # round: half to even (0.5 -> 0)
    "sign": np.sign, "sin": np.sin, "sinh": np.sinh, "sqrt": np.sqrt, "square": np.square,
    "tan": np.tan, "tanh": np.tanh, "logical_not": np.logical_not, "identity": lambda x: x,
}


def _unary(fn: Any) -> Any:
    def run(x: np.ndarray) -> np.ndarray:
        return fn(x)

    return run


for _name, _fn in _UNARY.items():
    # floor/ceil/round of a float16 value are float16 values too (integers below 2048,
    # the value itself above)
    kernel(_name, selects=_name in ("abs", "ceil", "floor", "round", "sign", "identity"))(
        _unary(_fn))


@kernel("inverse")
def inverse(x: np.ndarray, epsilon: Any = 1e-4) -> np.ndarray:
    return 1.0 / (f32(x) + f32(epsilon))


@kernel("log")
def log(x: np.ndarray, epsilon: Any = 1e-45) -> np.ndarray:
    return np.log(f32(x) + f32(epsilon))


@kernel("rsqrt")
def rsqrt(x: np.ndarray, epsilon: Any = 1e-12) -> np.ndarray:
    return 1.0 / np.sqrt(f32(x) + f32(epsilon))


@kernel("clip", selects=True)
def clip(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    return np.minimum(np.maximum(x, alpha), beta)


@kernel("threshold", selects=True)
def threshold(x: np.ndarray, alpha: Any) -> np.ndarray:
    return np.maximum(x, alpha)


@kernel("select", selects=True)
def select(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(cond).astype(bool), a, b)


# MIL dtype strings of cast (coremltools' ``string_to_builtin`` names).
_CAST = {"fp16": np.float32, "fp32": np.float32, "fp64": np.float64, "int8": np.int8,
         "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16, "int32": np.int32,
         "uint32": np.uint32, "int64": np.int64, "bool": np.bool_}


@kernel("cast")
def cast(x: np.ndarray, dtype: str) -> np.ndarray:
    """Float -> int truncates toward zero (numpy's ``astype``, as coremltools' own folding);
    ``fp16`` is rounded by the program from the declared output type."""
    if dtype not in _CAST:
        raise Unsupported(f"cast to {dtype!r}")
    return np.asarray(x).astype(_CAST[dtype])


# -- activations ------------------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-f32(x)))


@kernel("relu", selects=True)
def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


@kernel("relu6", selects=True)
def relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0, 6)


@kernel("leaky_relu")
def leaky_relu(x: np.ndarray, alpha: Any) -> np.ndarray:
    x = f32(x)
    return np.where(x >= 0, x, f32(alpha) * x)


@kernel("elu")
def elu(x: np.ndarray, alpha: Any) -> np.ndarray:
    x = f32(x)
    return np.where(x > 0, x, f32(alpha) * np.expm1(np.minimum(x, 0)))


@kernel("gelu")
def gelu(x: np.ndarray, mode: str = "EXACT") -> np.ndarray:
    x = f32(x)
    if mode == "EXACT":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if mode == "TANH_APPROXIMATION":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if mode == "SIGMOID_APPROXIMATION":
        return x * _sigmoid(1.702 * x)
    raise Unsupported(f"gelu mode {mode!r}")


@kernel("sigmoid")
def sigmoid(x: np.ndarray) -> np.ndarray:
    return _sigmoid(x)


@kernel("sigmoid_hard")
def sigmoid_hard(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    return np.clip(f32(alpha) * f32(x) + f32(beta), 0.0, 1.0)


@kernel("silu")
def silu(x: np.ndarray) -> np.ndarray:
    return f32(x) * _sigmoid(x)


@kernel("softplus")
def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, f32(x))


@kernel("softplus_parametric")
def softplus_parametric(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    x = f32(x)
    return (per_channel(alpha, x.ndim) * np.logaddexp(0.0, per_channel(beta, x.ndim) * x))


@kernel("softsign")
def softsign(x: np.ndarray) -> np.ndarray:
    x = f32(x)
    return x / (1.0 + np.abs(x))


@kernel("scaled_tanh")
def scaled_tanh(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    return f32(alpha) * np.tanh(f32(beta) * f32(x))


@kernel("linear_activation")
def linear_activation(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    return f32(alpha) * f32(x) + f32(beta)


@kernel("prelu")
def prelu(x: np.ndarray, alpha: Any) -> np.ndarray:
    x = f32(x)
    return np.where(x > 0, x, per_channel(alpha, x.ndim) * x)


@kernel("thresholded_relu")
def thresholded_relu(x: np.ndarray, alpha: Any) -> np.ndarray:
    x = f32(x)
    return np.where(x >= scalar(alpha), x, 0.0)


@kernel("clamped_relu")
def clamped_relu(x: np.ndarray, alpha: Any, beta: Any) -> np.ndarray:
    x = f32(x)
    return np.where(x >= 0, np.minimum(x, f32(beta)), f32(alpha) * x)


@kernel("softmax")
def softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    x = f32(x)
    axis = int(scalar(axis))
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
