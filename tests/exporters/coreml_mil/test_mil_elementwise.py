"""Element-wise ops, activations, reductions, normalisation and matrix products against numpy.

One program per op family (each output one op), converted once per module; every case is a
separate test on that program's outputs. float32 programs must match numpy (float64) to
float32 precision.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import compile_program, random

X_SHAPE = (2, 3, 4, 5)
X = random(X_SHAPE, seed=1, low=-3.0, high=3.0)
POSITIVE = random(X_SHAPE, seed=2, low=0.1, high=3.0)
UNIT = random(X_SHAPE, seed=3, low=-0.9, high=0.9)
Y = random((3, 1, 5), seed=4, low=0.5, high=2.0)  # broadcasts against X
C = X_SHAPE[1]
ALPHA = np.array([0.1, 0.2, 0.3], np.float32)
BETA = np.array([0.5, 1.0, 1.5], np.float32)


def _erf(v: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(v)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _ch(v: np.ndarray) -> np.ndarray:
    return v.reshape(1, -1, 1, 1)


# name -> (builder of the op on (x, positive, unit, y), numpy reference on the same arrays)
def _cases(mb):
    x_ops = {
        "abs": np.abs, "ceil": np.ceil, "floor": np.floor, "round": np.round, "sign": np.sign,
        "cos": np.cos, "cosh": np.cosh, "sin": np.sin, "sinh": np.sinh, "tanh": np.tanh,
        "atan": np.arctan, "exp": np.exp, "exp2": np.exp2, "square": np.square, "erf": _erf,
        "relu": lambda v: np.maximum(v, 0), "relu6": lambda v: np.clip(v, 0, 6),
        "sigmoid": _sigmoid, "silu": lambda v: v * _sigmoid(v),
        "softplus": lambda v: np.log1p(np.exp(v)), "softsign": lambda v: v / (1 + np.abs(v)),
        "identity": lambda v: v,
    }
    cases = {name: (lambda x, p, u, y, n=name: getattr(mb, n)(x=x), lambda x, p, u, y, f=f: f(x))
             for name, f in x_ops.items()}
    cases.update({
        "tan": (lambda x, p, u, y: mb.tan(x=u), lambda x, p, u, y: np.tan(u)),
        "acos": (lambda x, p, u, y: mb.acos(x=u), lambda x, p, u, y: np.arccos(u)),
        "asin": (lambda x, p, u, y: mb.asin(x=u), lambda x, p, u, y: np.arcsin(u)),
        "atanh": (lambda x, p, u, y: mb.atanh(x=u), lambda x, p, u, y: np.arctanh(u)),
        "sqrt": (lambda x, p, u, y: mb.sqrt(x=p), lambda x, p, u, y: np.sqrt(p)),
        "rsqrt": (lambda x, p, u, y: mb.rsqrt(x=p, epsilon=0.01),
                  lambda x, p, u, y: 1 / np.sqrt(p + 0.01)),
        "log": (lambda x, p, u, y: mb.log(x=p, epsilon=0.01), lambda x, p, u, y: np.log(p + .01)),
        "inverse": (lambda x, p, u, y: mb.inverse(x=p, epsilon=0.01),
                    lambda x, p, u, y: 1 / (p + 0.01)),
        "clip": (lambda x, p, u, y: mb.clip(x=x, alpha=-0.5, beta=1.25),
                 lambda x, p, u, y: np.clip(x, -0.5, 1.25)),
        "threshold": (lambda x, p, u, y: mb.threshold(x=x, alpha=0.3),
                      lambda x, p, u, y: np.maximum(x, 0.3)),
        "leaky_relu": (lambda x, p, u, y: mb.leaky_relu(x=x, alpha=0.1),
                       lambda x, p, u, y: np.where(x >= 0, x, 0.1 * x)),
        "elu": (lambda x, p, u, y: mb.elu(x=x, alpha=0.7),
                lambda x, p, u, y: np.where(x > 0, x, 0.7 * np.expm1(x))),
        "gelu_exact": (lambda x, p, u, y: mb.gelu(x=x, mode="EXACT"),
                       lambda x, p, u, y: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
        "gelu_tanh": (lambda x, p, u, y: mb.gelu(x=x, mode="TANH_APPROXIMATION"),
                      lambda x, p, u, y: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi)
                                                                * (x + 0.044715 * x ** 3)))),
        "gelu_sigmoid": (lambda x, p, u, y: mb.gelu(x=x, mode="SIGMOID_APPROXIMATION"),
                         lambda x, p, u, y: x * _sigmoid(1.702 * x)),
        "sigmoid_hard": (lambda x, p, u, y: mb.sigmoid_hard(x=x, alpha=0.3, beta=0.4),
                         lambda x, p, u, y: np.clip(0.3 * x + 0.4, 0, 1)),
        "scaled_tanh": (lambda x, p, u, y: mb.scaled_tanh(x=x, alpha=1.5, beta=0.5),
                        lambda x, p, u, y: 1.5 * np.tanh(0.5 * x)),
        "linear_activation": (lambda x, p, u, y: mb.linear_activation(x=x, alpha=2.0, beta=-1.),
                              lambda x, p, u, y: 2 * x - 1),
        "thresholded_relu": (lambda x, p, u, y: mb.thresholded_relu(x=x, alpha=0.5),
                             lambda x, p, u, y: np.where(x >= 0.5, x, 0)),
        "clamped_relu": (lambda x, p, u, y: mb.clamped_relu(x=x, alpha=0.2, beta=1.5),
                         lambda x, p, u, y: np.where(x >= 0, np.minimum(x, 1.5), 0.2 * x)),
        "prelu": (lambda x, p, u, y: mb.prelu(x=x, alpha=ALPHA),
                  lambda x, p, u, y: np.where(x > 0, x, _ch(ALPHA) * x)),
        "softplus_parametric": (
            lambda x, p, u, y: mb.softplus_parametric(x=x, alpha=ALPHA, beta=BETA),
            lambda x, p, u, y: _ch(ALPHA) * np.log1p(np.exp(_ch(BETA) * x))),
        "softmax_axis1": (lambda x, p, u, y: mb.softmax(x=x, axis=1),
                          lambda x, p, u, y: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        "softmax_last": (lambda x, p, u, y: mb.softmax(x=x, axis=-1),
                         lambda x, p, u, y: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        # binary ops broadcast numpy-style: [2,3,4,5] with [3,1,5]
        "add": (lambda x, p, u, y: mb.add(x=x, y=y), lambda x, p, u, y: x + y),
        "sub": (lambda x, p, u, y: mb.sub(x=x, y=y), lambda x, p, u, y: x - y),
        "mul": (lambda x, p, u, y: mb.mul(x=x, y=y), lambda x, p, u, y: x * y),
        "real_div": (lambda x, p, u, y: mb.real_div(x=x, y=y), lambda x, p, u, y: x / y),
        "floor_div": (lambda x, p, u, y: mb.floor_div(x=x, y=y),
                      lambda x, p, u, y: np.floor(x / y)),
        "mod": (lambda x, p, u, y: mb.mod(x=x, y=y), lambda x, p, u, y: np.mod(x, y)),
        "pow": (lambda x, p, u, y: mb.pow(x=p, y=y), lambda x, p, u, y: p ** y),
        "maximum": (lambda x, p, u, y: mb.maximum(x=x, y=y), lambda x, p, u, y: np.maximum(x, y)),
        "minimum": (lambda x, p, u, y: mb.minimum(x=x, y=y), lambda x, p, u, y: np.minimum(x, y)),
        "add_scalar": (lambda x, p, u, y: mb.add(x=x, y=0.25), lambda x, p, u, y: x + 0.25),
        "select": (lambda x, p, u, y: mb.select(cond=mb.greater(x=x, y=y), a=x, b=y),
                   lambda x, p, u, y: np.where(x > y, x, y)),
        "cast_int32": (lambda x, p, u, y: mb.cast(x=x, dtype="int32"),
                       lambda x, p, u, y: np.trunc(x)),
        # reductions
        "reduce_sum": (lambda x, p, u, y: mb.reduce_sum(x=x, axes=[1, 3]),
                       lambda x, p, u, y: x.sum((1, 3))),
        "reduce_mean_keep": (lambda x, p, u, y: mb.reduce_mean(x=x, axes=[-1], keep_dims=True),
                             lambda x, p, u, y: x.mean(-1, keepdims=True)),
        "reduce_max_all": (lambda x, p, u, y: mb.reduce_max(x=x), lambda x, p, u, y: x.max()),
        "reduce_min": (lambda x, p, u, y: mb.reduce_min(x=x, axes=[2]),
                       lambda x, p, u, y: x.min(2)),
        "reduce_prod": (lambda x, p, u, y: mb.reduce_prod(x=u, axes=[0]),
                        lambda x, p, u, y: u.prod(0)),
        "reduce_l1_norm": (lambda x, p, u, y: mb.reduce_l1_norm(x=x, axes=[1]),
                           lambda x, p, u, y: np.abs(x).sum(1)),
        "reduce_l2_norm": (lambda x, p, u, y: mb.reduce_l2_norm(x=x, axes=[1]),
                           lambda x, p, u, y: np.sqrt((x * x).sum(1))),
        "reduce_sum_square": (lambda x, p, u, y: mb.reduce_sum_square(x=x, axes=[3]),
                              lambda x, p, u, y: (x * x).sum(3)),
        "reduce_log_sum": (lambda x, p, u, y: mb.reduce_log_sum(x=p, axes=[1]),
                           lambda x, p, u, y: np.log(p.sum(1))),
        "reduce_log_sum_exp": (lambda x, p, u, y: mb.reduce_log_sum_exp(x=x, axes=[2]),
                               lambda x, p, u, y: np.log(np.exp(x).sum(2))),
        "reduce_argmax": (lambda x, p, u, y: mb.reduce_argmax(x=x, axis=1),
                          lambda x, p, u, y: x.argmax(1)),
        "reduce_argmin_keep": (lambda x, p, u, y: mb.reduce_argmin(x=x, axis=-1, keep_dims=True),
                               lambda x, p, u, y: x.argmin(-1)[..., None]),
        # normalisation (channel axis 1)
        "batch_norm": (lambda x, p, u, y: mb.batch_norm(x=x, mean=ALPHA, variance=BETA,
                                                        gamma=BETA, beta=ALPHA, epsilon=1e-3),
                       lambda x, p, u, y: (x - _ch(ALPHA)) / np.sqrt(_ch(BETA) + 1e-3)
                       * _ch(BETA) + _ch(ALPHA)),
        "instance_norm": (lambda x, p, u, y: mb.instance_norm(x=x, gamma=BETA, beta=ALPHA,
                                                              epsilon=1e-3),
                          lambda x, p, u, y: (x - x.mean((2, 3), keepdims=True)) / np.sqrt(
                              x.var((2, 3), keepdims=True) + 1e-3) * _ch(BETA) + _ch(ALPHA)),
        "layer_norm": (lambda x, p, u, y: mb.layer_norm(x=x, axes=[-1], epsilon=1e-3,
                                                        gamma=np.arange(1, 6, dtype=np.float32),
                                                        beta=np.full(5, .5, np.float32)),
                       lambda x, p, u, y: (x - x.mean(-1, keepdims=True)) / np.sqrt(
                           x.var(-1, keepdims=True) + 1e-3) * np.arange(1, 6) + 0.5),
        "l2_norm": (lambda x, p, u, y: mb.l2_norm(x=x, epsilon=1e-6),
                    lambda x, p, u, y: x / np.sqrt((x * x).sum((1, 2, 3), keepdims=True) + 1e-6)),
        "local_response_norm": (
            lambda x, p, u, y: mb.local_response_norm(x=x, size=3, alpha=0.1, beta=0.75, k=1.),
            lambda x, p, u, y: x / (1 + 0.1 / 3 * np.stack([
                (np.pad(x * x, [(0, 0), (1, 1), (0, 0), (0, 0)])[:, c:c + 3]).sum(1)
                for c in range(C)], 1)) ** 0.75),
        # matrix products
        "matmul": (lambda x, p, u, y: mb.matmul(x=x, y=u, transpose_y=True),
                   lambda x, p, u, y: x @ np.swapaxes(u, -1, -2)),
        "linear": (lambda x, p, u, y: mb.linear(x=x, weight=np.ones((2, 5), np.float32)
                                                * np.arange(2, dtype=np.float32)[:, None],
                                                bias=np.array([1, -1], np.float32)),
                   lambda x, p, u, y: np.stack([x.sum(-1) * 0 + 1, x.sum(-1) - 1], -1)),
        "einsum": (lambda x, p, u, y: mb.einsum(values=(x, mb.transpose(x=u, perm=[0, 3, 2, 1])),
                                                equation="nchw,nwhu->nchu"),
                   lambda x, p, u, y: np.einsum("nchw,nwhu->nchu", x, u.transpose(0, 3, 2, 1))),
    })
    return cases


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, object]]:
    from coremltools.converters.mil import Builder as mb

    cases = _cases(mb)

    def build(x, p, u, y):
        return {name: make(x, p, u, y) for name, (make, _) in cases.items()}

    shapes = {"x": X_SHAPE, "p": X_SHAPE, "u": X_SHAPE, "y": Y.shape}
    program = compile_program(build, shapes, tmp_path_factory.mktemp("mil") / "ew.mlpackage")
    out = program.run({"x": X, "p": POSITIVE, "u": UNIT, "y": Y})
    args = [a.astype(np.float64) for a in (X, POSITIVE, UNIT, Y)]
    return {name: (out[name], ref(*args), program) for name, (_, ref) in cases.items()}




def _names() -> list[str]:
    class _Recorder:
        def __getattr__(self, name):
            return lambda **kw: None

    return sorted(_cases(_Recorder()))


@pytest.mark.parametrize("name", _names())
def test_op_matches_numpy(results, name: str):
    got, want, program = results[name]
    assert got.shape == np.shape(want), name
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=name)


def test_every_case_ran_its_op(results):
    program = next(iter(results.values()))[2]
    for op in ("erf", "gelu", "prelu", "einsum", "reduce_log_sum_exp", "local_response_norm",
               "select", "cast", "mod", "floor_div"):
        assert program.op_types[op], op


def test_integer_and_boolean_ops(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    a = np.array([[3, -7, 8], [0, 5, -2]], np.int32)
    b = np.array([2, 3, -3], np.int32)

    def build(a, b):
        less = mb.less(x=a, y=b)
        return {"add": mb.add(x=a, y=b), "mul": mb.mul(x=a, y=b),
                "floor_div": mb.floor_div(x=a, y=b), "mod": mb.mod(x=a, y=b),
                "less": less, "not": mb.logical_not(x=less),
                "xor": mb.logical_xor(x=less, y=mb.equal(x=a, y=b)),
                "and": mb.logical_and(x=less, y=mb.not_equal(x=a, y=b)),
                "or": mb.logical_or(x=less, y=mb.greater_equal(x=a, y=b)),
                "less_equal": mb.less_equal(x=a, y=b), "greater": mb.greater(x=a, y=b),
                "as_float": mb.cast(x=a, dtype="fp32"), "as_bool": mb.cast(x=a, dtype="bool")}

    program = compile_program(build, {"a": a.shape, "b": b.shape}, tmp_path / "int.mlpackage",
                              input_dtypes={"a": "int32", "b": "int32"})
    out = program.run({"a": a, "b": b})
    less = a < b
    want = {"add": a + b, "mul": a * b, "floor_div": a // b, "mod": np.mod(a, b), "less": less,
            "not": ~less, "xor": less ^ (a == b), "and": less & (a != b),
            "or": less | (a >= b), "less_equal": a <= b, "greater": a > b,
            "as_float": a.astype(np.float32), "as_bool": a != 0}
    for name, value in want.items():
        # Core ML has no bool outputs: the converter casts them to float32 at the boundary
        assert out[name].dtype == program.outputs[name].dtype, name
        np.testing.assert_array_equal(out[name], value, err_msg=name)
    assert program.outputs["add"].dtype == np.int32
