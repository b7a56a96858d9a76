"""float16 semantics: every op's result is rounded to float16 (as on a device), bit for bit
what numpy's float16 conversion gives, including ties, subnormals and overflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exporters.formats.coreml.mil.fp16 import round_fp16
from tests.exporters.coreml_mil.programs import compile_program, random


def _numpy_fp16(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float32)


def _edge_values() -> np.ndarray:
    rng = np.random.default_rng(0)
    wide = rng.normal(size=200_000) * 10.0 ** rng.uniform(-10, 6, 200_000)
    halves = rng.normal(size=50_000).astype(np.float16).astype(np.float32)
    ulp = np.spacing(halves.astype(np.float16)).astype(np.float32)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.996, 65520, -65520, 1e9,
               2 ** -14, 2 ** -14 * 0.9999, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, 1e-30,
               -5e-8, 1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11]
    return np.concatenate([wide, halves + ulp / 2, halves - ulp / 2, special]).astype(np.float32)


def test_round_fp16_is_bit_exact():
    values = _edge_values()
    want, got = _numpy_fp16(values), round_fp16(values)
    same = (want.view(np.uint32) == got.view(np.uint32)) | (np.isnan(want) & np.isnan(got))
    assert same.all(), values[~same][:10]


def test_round_fp16_in_place_and_on_views():
    values = _edge_values()[:1000].reshape(100, 10)
    view = values[:, ::2]  # not contiguous: rounded into a new array
    np.testing.assert_array_equal(round_fp16(view, inplace=True), _numpy_fp16(view))
    assert not np.array_equal(values[:, ::2], _numpy_fp16(values[:, ::2]), equal_nan=True)
    owned = values.copy()
    assert round_fp16(owned, inplace=True) is owned
    np.testing.assert_array_equal(owned, _numpy_fp16(values))


def _chain(mb, x):
    three = np.float16(3.0)
    return {"sum": mb.add(x=x, y=np.float16(1e-4)),
            "chain": mb.sub(x=mb.real_div(x=mb.mul(x=x, y=three), y=three), y=x),
            "overflow": mb.mul(x=x, y=np.float16(1000.0)),
            "softmax": mb.softmax(x=x, axis=-1)}


def test_every_op_result_is_rounded_to_float16(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    x = np.concatenate([[1.0, 100.0, 0.1], random((61,), seed=3)]).astype(np.float32)
    program = compile_program(lambda x: _chain(mb, x), {"x": x.shape},
                              tmp_path / "fp16.mlpackage", fp16=True,
                              expect_ops=("cast", "real_div"))
    out = program.run({"x": x})
    h = _numpy_fp16(x)  # the input cast to float16
    assert out["sum"][0] == 1.0  # 1 + 1e-4 rounds back to 1 in float16
    # each op rounded on its own, as a device computes it
    step = _numpy_fp16(_numpy_fp16(_numpy_fp16(h * 3) / 3) - h)
    np.testing.assert_array_equal(out["chain"], step)
    assert np.count_nonzero(out["chain"]) > 0  # rounding shows (exactly 0 in real numbers)
    assert out["overflow"][1] == np.inf  # 100 * 1000 overflows float16
    np.testing.assert_array_equal(out["overflow"], _numpy_fp16(h * _numpy_fp16(1000.0)))
    e = np.exp(h - h.max())
    np.testing.assert_allclose(out["softmax"], e / e.sum(), rtol=2e-3, atol=1e-6)
    for value in out.values():
        np.testing.assert_array_equal(value, _numpy_fp16(value))


def test_float32_programs_are_not_rounded(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    x = np.array([1.0, 100.0], np.float32)
    program = compile_program(lambda x: mb.add(x=x, y=np.float32(1e-4)), {"x": x.shape},
                              tmp_path / "fp32.mlpackage")
    np.testing.assert_array_equal(program.run({"x": x})["out0"], x + np.float32(1e-4))


@pytest.mark.parametrize("op", ["relu6", "clip", "max_pool", "resize_nearest_neighbor",
                                "pad", "slice_by_index", "concat"])
def test_selecting_ops_keep_float16_values(tmp_path: Path, op: str):
    """Ops that only move values are not rounded again, and need not be: their results are
    input values (this pins the shortcut to what rounding would give)."""
    from coremltools.converters.mil import Builder as mb

    build = {
        "relu6": lambda x: mb.relu6(x=x),
        "clip": lambda x: mb.clip(x=x, alpha=np.float16(-0.3), beta=np.float16(0.7)),
        "max_pool": lambda x: mb.max_pool(x=x, kernel_sizes=[2, 2], strides=[1, 1],
                                          pad_type="same"),
        "resize_nearest_neighbor": lambda x: mb.resize_nearest_neighbor(
            x=x, target_size_height=9, target_size_width=5),
        "pad": lambda x: mb.pad(x=x, pad=[1, 1, 2, 0], constant_val=np.float16(0.1)),
        "slice_by_index": lambda x: mb.slice_by_index(x=x, begin=[0, 0, 1, 0],
                                                      end=[1, 2, 4, 3]),
        "concat": lambda x: mb.concat(values=[x, x], axis=1),
    }[op]
    x = random((1, 2, 6, 4), seed=4)
    program = compile_program(build, {"x": x.shape}, tmp_path / "s.mlpackage", fp16=True,
                              expect_ops=(op,))
    out = program.run({"x": x})["out0"]
    np.testing.assert_array_equal(out, _numpy_fp16(out))
