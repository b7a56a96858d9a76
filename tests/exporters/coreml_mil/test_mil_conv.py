"""Convolutions and pooling against TensorFlow and a direct (loop-per-output) numpy reference:
every pad type, strides, dilations, groups, depthwise multipliers, 1-D, transposed
convolutions, ceil-mode pooling, and float16 programs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import compile_program, fp16, random

TOL = {"rtol": 1e-5, "atol": 1e-5}


def naive_conv(x, w, b=None, strides=(1, 1), pads=((0, 0), (0, 0)), dilations=None,
               groups=1):
    """The definition of MIL's conv: one dot product per output position and group."""
    n, c, *size = x.shape
    dilations = dilations or (1,) * len(size)
    k = w.shape[2:]
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0), *pads])
    out_size = [(xp.shape[2 + i] - (k[i] - 1) * dilations[i] - 1) // strides[i] + 1
                for i in range(len(size))]
    cg, og = c // groups, w.shape[0] // groups
    out = np.zeros((n, w.shape[0], *out_size))
    for pos in itertools.product(*(range(o) for o in out_size)):
        window = xp[(slice(None), slice(None), *(
            slice(p * s, p * s + (kk - 1) * d + 1, d)
            for p, s, kk, d in zip(pos, strides, k, dilations, strict=True)))]
        for g in range(groups):
            out[(slice(None), slice(g * og, (g + 1) * og), *pos)] = np.tensordot(
                window[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og],
                axes=(list(range(1, window.ndim)), list(range(1, w.ndim))))
    if b is not None:
        out += b.reshape((1, -1) + (1,) * len(size))
    return out


def tf_conv(x, w, b, strides, padding, dilations=(1, 1)):
    import tensorflow as tf

    y = tf.nn.conv2d(x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), strides=strides,
                     padding=padding, dilations=dilations).numpy().transpose(0, 3, 1, 2)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def tf_depthwise(x, w, strides, padding, dilations=(1, 1)):
    import tensorflow as tf

    c = x.shape[1]
    mult = w.shape[0] // c
    kernel = w.reshape(c, mult, *w.shape[2:]).transpose(2, 3, 0, 1)
    return tf.nn.depthwise_conv2d(x.transpose(0, 2, 3, 1), kernel, strides=(1, *strides, 1),
                                  padding=padding, dilations=dilations,
                                  ).numpy().transpose(0, 3, 1, 2)


def _run_conv(tmp_path: Path, x, w, b=None, fp16_program=False, **params):
    from coremltools.converters.mil import Builder as mb

    dtype = np.float16 if fp16_program else np.float32
    consts = {"weight": w.astype(dtype)}
    if b is not None:
        consts["bias"] = b.astype(dtype)
    program = compile_program(lambda x: mb.conv(x=x, **consts, **params), {"x": x.shape},
                              tmp_path / "conv.mlpackage", expect_ops=("conv",),
                              fp16=fp16_program)
    return program.run({"x": x})["out0"]


# (id, input shape, weight shape, groups, MIL params, reference)
CONV_CASES = [
    ("3x3_same", (1, 4, 9, 9), (6, 4, 3, 3), {"pad_type": "same"},
     lambda x, w, b: tf_conv(x, w, b, 1, "SAME")),
    ("3x3_same_stride2_even", (1, 4, 10, 8), (6, 4, 3, 3), {"pad_type": "same", "strides": [2, 2]},
     lambda x, w, b: tf_conv(x, w, b, 2, "SAME")),
    ("3x3_same_stride2_odd", (2, 3, 9, 11), (5, 3, 3, 3), {"pad_type": "same", "strides": [2, 2]},
     lambda x, w, b: tf_conv(x, w, b, 2, "SAME")),
    ("5x5_valid_stride2", (1, 3, 12, 11), (4, 3, 5, 5), {"pad_type": "valid", "strides": [2, 2]},
     lambda x, w, b: tf_conv(x, w, b, 2, "VALID")),
    ("4x4_same_even_kernel", (1, 3, 9, 10), (4, 3, 4, 4), {"pad_type": "same"},
     lambda x, w, b: tf_conv(x, w, b, 1, "SAME")),
    ("3x3_valid_dilation2", (1, 3, 11, 10), (4, 3, 3, 3),
     {"pad_type": "valid", "dilations": [2, 2]},
     lambda x, w, b: tf_conv(x, w, b, 1, "VALID", (2, 2))),
    ("3x3_same_dilation2", (1, 3, 10, 10), (4, 3, 3, 3),
     {"pad_type": "same", "dilations": [2, 1]},
     lambda x, w, b: tf_conv(x, w, b, 1, "SAME", (2, 1))),
    ("1x1_bias", (1, 8, 7, 6), (5, 8, 1, 1), {"pad_type": "valid"},
     lambda x, w, b: tf_conv(x, w, b, 1, "VALID")),
    ("custom_pad", (1, 3, 8, 9), (4, 3, 3, 2),
     {"pad_type": "custom", "pad": [1, 2, 0, 3], "strides": [2, 1]},
     lambda x, w, b: naive_conv(x, w, b, (2, 1), ((1, 2), (0, 3)))),
    ("same_lower_stride2", (1, 3, 10, 9), (4, 3, 3, 4),
     {"pad_type": "same_lower", "strides": [2, 2]},
     lambda x, w, b: naive_conv(x, w, b, (2, 2), ((1, 0), (2, 1)))),
    ("groups2", (1, 6, 8, 8), (4, 3, 3, 3), {"pad_type": "same", "groups": 2},
     lambda x, w, b: naive_conv(x, w, b, (1, 1), ((1, 1), (1, 1)), groups=2)),
    ("depthwise_same", (1, 5, 9, 9), (5, 1, 3, 3), {"pad_type": "same", "groups": 5},
     lambda x, w, b: tf_depthwise(x, w, (1, 1), "SAME")),
    ("depthwise_stride2_multiplier2", (1, 3, 10, 9), (6, 1, 3, 3),
     {"pad_type": "same", "strides": [2, 2], "groups": 3},
     lambda x, w, b: tf_depthwise(x, w, (2, 2), "SAME")),
    ("depthwise_dilation2_valid", (1, 4, 11, 11), (4, 1, 3, 3),
     {"pad_type": "valid", "dilations": [2, 2], "groups": 4},
     lambda x, w, b: tf_depthwise(x, w, (1, 1), "VALID", (2, 2))),
    ("conv1d_same_stride2", (2, 3, 11), (4, 3, 3), {"pad_type": "same", "strides": [2]},
     lambda x, w, b: naive_conv(x, w, b, (2,), ((1, 1),))),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_matches_reference(tmp_path: Path, case):
    name, x_shape, w_shape, params, reference = case
    x, w = random(x_shape, seed=1), random(w_shape, seed=2, low=-1, high=1)
    b = random((w_shape[0],), seed=3) if name.endswith("bias") or "odd" in name else None
    got = _run_conv(tmp_path, x, w, b, **params)
    want = reference(x, w, b)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize("groups", [1, 4], ids=["dense", "depthwise"])
def test_conv_in_float16_rounds_like_a_device(tmp_path: Path, groups: int):
    """fp16 program: inputs and weights rounded to fp16, the result rounded once more."""
    x = random((1, 4, 12, 12), seed=4)
    w = random((4, 4 // groups, 3, 3), seed=5, low=-1, high=1)
    b = random((4,), seed=6)
    got = _run_conv(tmp_path, x, w, b, fp16_program=True, pad_type="same", strides=[2, 2],
                    groups=groups)
    exact = naive_conv(fp16(x), fp16(w), fp16(b), (2, 2), ((0, 1), (0, 1)), groups=groups)
    assert np.array_equal(got, got.astype(np.float16).astype(np.float32))  # fp16 values
    # one fp16 rounding of a float32-accurate sum: within half an fp16 ulp (+ sum noise)
    np.testing.assert_allclose(got, exact, rtol=2 ** -11 + 1e-6, atol=1e-6)
    assert not np.allclose(got, naive_conv(x, w, b, (2, 2), ((0, 1), (0, 1)), groups=groups),
                           rtol=1e-6, atol=1e-6)  # fp16 rounding shows


def naive_conv_transpose(x, w, b, strides, crop_begin, out_size):
    """Scatter definition: each input pixel adds weight * value at stride-spaced positions."""
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    full = np.zeros((n, w.shape[1], (h - 1) * strides[0] + kh, (wd - 1) * strides[1] + kw))
    for i, j in itertools.product(range(h), range(wd)):
        full[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw] += \
            np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    out = full[:, :, crop_begin[0]:crop_begin[0] + out_size[0],
               crop_begin[1]:crop_begin[1] + out_size[1]]
    return out + b.reshape(1, -1, 1, 1)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv_transpose_matches_tensorflow(tmp_path: Path, padding: str):
    import tensorflow as tf
    from coremltools.converters.mil import Builder as mb

    x = random((1, 3, 5, 4), seed=7)
    w = random((3, 2, 3, 3), seed=8, low=-1, high=1)  # [C_in, C_out, kh, kw]
    b = random((2,), seed=9)
    out_hw = (10, 8) if padding == "SAME" else (11, 9)
    program = compile_program(
        lambda x: mb.conv_transpose(x=x, weight=w, bias=b, pad_type=padding.lower(),
                                    strides=[2, 2]),
        {"x": x.shape}, tmp_path / "ct.mlpackage", expect_ops=("conv_transpose",))
    got = program.run({"x": x})["out0"]
    want = tf.nn.conv2d_transpose(x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0),
                                  output_shape=(1, *out_hw, 2), strides=2,
                                  padding=padding).numpy().transpose(0, 3, 1, 2)
    np.testing.assert_allclose(got, want + b.reshape(1, -1, 1, 1), **TOL)


def test_conv_transpose_custom_pad(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    x = random((2, 4, 4, 3), seed=10)
    w = random((4, 3, 3, 2), seed=11, low=-1, high=1)
    b = random((3,), seed=12)
    program = compile_program(
        lambda x: mb.conv_transpose(x=x, weight=w, bias=b, pad_type="custom", pad=[1, 0, 0, 1],
                                    strides=[2, 3]),
        {"x": x.shape}, tmp_path / "ct.mlpackage")
    got = program.run({"x": x})["out0"]
    full = ((4 - 1) * 2 + 3, (3 - 1) * 3 + 2)
    want = naive_conv_transpose(x, w, b, (2, 3), (1, 0), (full[0] - 1, full[1] - 1))
    np.testing.assert_allclose(got, want, **TOL)


def naive_pool(x, kind, k, s, pads, ceil_mode=False, exclude_pad=False):
    """PyTorch's pooling definition (ceil mode, count_include_pad) written out per window."""
    n, c, h, w = x.shape
    out_hw = []
    for size, kk, ss, (pb, pe) in zip((h, w), k, s, pads, strict=True):
        span = size + pb + pe - kk
        out = (span + (ss - 1 if ceil_mode else 0)) // ss + 1
        if ceil_mode and (out - 1) * ss >= size + pb:
            out -= 1
        out_hw.append(out)
    result = np.zeros((n, c, *out_hw))
    for oy, ox in itertools.product(range(out_hw[0]), range(out_hw[1])):
        y0, x0 = oy * s[0] - pads[0][0], ox * s[1] - pads[1][0]
        y1, x1 = min(y0 + k[0], h + pads[0][1]), min(x0 + k[1], w + pads[1][1])
        inside = x[:, :, max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)].astype(np.float64)
        if kind == "max":
            result[:, :, oy, ox] = inside.max((2, 3))
        elif kind == "l2":
            result[:, :, oy, ox] = np.sqrt((inside ** 2).sum((2, 3)))
        else:
            count = inside.shape[2] * inside.shape[3] if exclude_pad else (y1 - y0) * (x1 - x0)
            result[:, :, oy, ox] = inside.sum((2, 3)) / count
    return result


POOL_CASES = [
    ("max_same_stride2", "max", {"pad_type": "same"}, (3, 3), (2, 2), ((1, 1), (0, 1)), False),
    ("max_valid", "max", {"pad_type": "valid"}, (2, 3), (2, 1), ((0, 0), (0, 0)), False),
    ("max_custom_ceil", "max", {"pad_type": "custom", "pad": [1, 1, 0, 0], "ceil_mode": True},
     (3, 3), (2, 2), ((1, 1), (0, 0)), True),
    ("avg_same_excluding_pad", "avg",
     {"pad_type": "same", "exclude_padding_from_average": True},
     (3, 3), (2, 2), ((1, 1), (0, 1)), False),
    ("avg_custom_including_pad", "avg",
     {"pad_type": "custom", "pad": [1, 1, 2, 0], "exclude_padding_from_average": False},
     (3, 3), (1, 2), ((1, 1), (2, 0)), False),
    ("avg_ceil_including_pad", "avg",
     {"pad_type": "custom", "pad": [0, 0, 1, 1], "ceil_mode": True,
      "exclude_padding_from_average": False}, (2, 3), (2, 2), ((0, 0), (1, 1)), True),
    ("l2_valid", "l2", {"pad_type": "valid"}, (2, 2), (2, 2), ((0, 0), (0, 0)), False),
]


@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pooling_matches_reference(tmp_path: Path, case):
    from coremltools.converters.mil import Builder as mb

    name, kind, params, k, s, pads, ceil_mode = case
    x = random((1, 3, 9, 10), seed=13)
    op = {"max": mb.max_pool, "avg": mb.avg_pool, "l2": mb.l2_pool}[kind]
    program = compile_program(lambda x: op(x=x, kernel_sizes=list(k), strides=list(s),
                                           **params),
                              {"x": x.shape}, tmp_path / "pool.mlpackage",
                              expect_ops=(f"{kind}_pool",))
    got = program.run({"x": x})["out0"]
    exclude = bool(params.get("exclude_padding_from_average"))
    want = naive_pool(x, kind, k, s, pads, ceil_mode, exclude)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOL)


def test_max_and_avg_pool_match_tensorflow(tmp_path: Path):
    import tensorflow as tf
    from coremltools.converters.mil import Builder as mb

    x = random((1, 4, 11, 8), seed=14)
    program = compile_program(
        lambda x: {"max": mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="same"),
                   "avg": mb.avg_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="same",
                                      exclude_padding_from_average=True)},
        {"x": x.shape}, tmp_path / "pool.mlpackage")
    out = program.run({"x": x})
    nhwc = x.transpose(0, 2, 3, 1)
    for name, fn in (("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)):
        want = fn(nhwc, 3, 2, "SAME").numpy().transpose(0, 3, 1, 2)
        np.testing.assert_allclose(out[name], want, **TOL, err_msg=name)
