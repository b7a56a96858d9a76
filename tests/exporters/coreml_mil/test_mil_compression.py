"""Compressed weights: each constexpr op against its definition, and the programs
``coremltools.optimize.coreml`` writes (int8, 6- and 4-bit palettes; iOS 16 and iOS 18 ops)
against coremltools' own decompression and the uncompressed program."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import IOS16, IOS18, compile_program, random


def pack_lsb_first(values: np.ndarray, bits: int) -> np.ndarray:
    """n-bit values packed least significant bit first (MIL's sub-byte layout)."""
    flat = np.asarray(values, np.int64).reshape(-1)
    bit_rows = (flat[:, None] >> np.arange(bits)) & 1
    return np.packbits(bit_rows.reshape(-1).astype(np.uint8), bitorder="little")


def _add_weight(tmp_path: Path, weight_op, shape, target=IOS16, expect=()):
    """Program x + w with w built by ``weight_op(mb)``; returns w as the interpreter sees it."""
    from coremltools.converters.mil import Builder as mb

    program = compile_program(lambda x: mb.add(x=x, y=weight_op(mb)), {"x": shape},
                              tmp_path / "w.mlpackage", target=target, expect_ops=expect)
    return program.run({"x": np.zeros(shape, np.float32)})["out0"]


@pytest.mark.parametrize("axis", [0, 1])
def test_affine_dequantize_per_channel(tmp_path: Path, axis: int):
    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, (4, 6)).astype(np.int8)
    zp = rng.integers(-5, 5, q.shape[axis]).astype(np.int8)
    scale = rng.uniform(0.01, 0.1, q.shape[axis]).astype(np.float32)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_affine_dequantize(
        quantized_data=q, zero_point=zp, scale=scale, axis=axis), q.shape,
        expect=("constexpr_affine_dequantize",))
    shape = (-1, 1) if axis == 0 else (1, -1)
    want = (q.astype(np.float64) - zp.reshape(shape)) * scale.reshape(shape)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_affine_dequantize_uint8_scalar_params(tmp_path: Path):
    q = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_affine_dequantize(
        quantized_data=q, zero_point=np.uint8(128), scale=np.float32(0.5), axis=0), q.shape)
    np.testing.assert_allclose(got, (q.astype(np.float64) - 128) * 0.5)


@pytest.mark.parametrize("bits", [1, 2, 4, 6, 8])
def test_ios16_lut_to_dense_unpacks_indices(tmp_path: Path, bits: int):
    rng = np.random.default_rng(bits)
    shape = (5, 3, 3)  # 45 values: the packed bits do not end on a byte boundary
    idx = rng.integers(0, 2 ** bits, shape)
    lut = rng.normal(size=2 ** bits).astype(np.float32)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_lut_to_dense(
        lut=lut, indices=pack_lsb_first(idx, bits), shape=np.array(shape, np.uint32)), shape,
        expect=("constexpr_lut_to_dense",))
    np.testing.assert_array_equal(got, lut[idx])


def test_ios16_sparse_to_dense_and_cast(tmp_path: Path):
    rng = np.random.default_rng(1)
    mask = rng.random((3, 7)) < 0.4
    data = rng.normal(size=int(mask.sum())).astype(np.float32)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_sparse_to_dense(
        nonzero_data=data, mask=np.packbits(mask.reshape(-1).astype(np.uint8),
                                            bitorder="little"),
        shape=np.array(mask.shape, np.uint32)), mask.shape,
        expect=("constexpr_sparse_to_dense",))
    want = np.zeros(mask.shape)
    want[mask] = data
    np.testing.assert_array_equal(got, want)

    half = rng.normal(size=(2, 3)).astype(np.float16)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_cast(source_val=half,
                                                             output_dtype="fp32"), half.shape,
                      expect=("constexpr_cast",))
    np.testing.assert_array_equal(got, half.astype(np.float32))


def test_ios18_blockwise_shift_scale(tmp_path: Path):
    from coremltools.converters.mil.mil import types

    rng = np.random.default_rng(2)
    data = rng.integers(-8, 8, (4, 6)).astype(types.np_int4_dtype)
    scale = rng.uniform(0.1, 1.0, (2, 3)).astype(np.float32)  # blocks of 2 x 2
    offset = rng.integers(-2, 2, (2, 3)).astype(types.np_int4_dtype)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_blockwise_shift_scale(
        data=data, scale=scale, offset=offset), data.shape, target=IOS18,
        expect=("constexpr_blockwise_shift_scale",))
    want = np.empty(data.shape)
    for i in range(4):
        for j in range(6):
            want[i, j] = scale[i // 2, j // 2] * (int(data[i, j]) - int(offset[i // 2, j // 2]))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_ios18_lut_to_dense_per_block_and_vector(tmp_path: Path):
    from coremltools.converters.mil.mil import types

    rng = np.random.default_rng(3)
    idx = rng.integers(0, 16, (6, 2)).astype(types.np_uint4_dtype)
    lut = rng.normal(size=(2, 1, 16, 1)).astype(np.float32)  # one table per 3 rows
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_lut_to_dense(indices=idx, lut=lut),
                      idx.shape, target=IOS18, expect=("constexpr_lut_to_dense",))
    want = np.array([[lut[i // 3, 0, int(idx[i, j]), 0] for j in range(2)] for i in range(6)])
    np.testing.assert_array_equal(got, want)

    vidx = rng.integers(0, 2, (2, 2, 2)).astype(types.np_uint1_dtype)
    vlut = rng.normal(size=(1, 1, 1, 2, 3)).astype(np.float32)  # 2 vectors of 3 values
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_lut_to_dense(
        indices=vidx, lut=vlut, vector_axis=1), (2, 6, 2), target=IOS18)
    want = np.empty((2, 6, 2))
    for a in range(2):
        for b in range(2):
            for c in range(2):
                want[a, 3 * b:3 * b + 3, c] = vlut[0, 0, 0, int(vidx[a, b, c])]
    np.testing.assert_array_equal(got, want)


def test_ios18_sparse_to_dense(tmp_path: Path):
    from coremltools.converters.mil.mil import types

    rng = np.random.default_rng(4)
    mask = (rng.random((4, 5)) < 0.5).astype(types.np_uint1_dtype)
    data = rng.normal(size=int(mask.astype(bool).sum())).astype(np.float32)
    got = _add_weight(tmp_path, lambda mb: mb.constexpr_sparse_to_dense(
        nonzero_data=data, mask=mask), mask.shape, target=IOS18,
        expect=("constexpr_sparse_to_dense",))
    want = np.zeros(mask.shape)
    want[mask.astype(bool)] = data
    np.testing.assert_array_equal(got, want)


# -- what coremltools.optimize.coreml writes -------------------------------------------------
def _conv_model(target: str):
    """A float16 conv program big enough to be compressed (weights over 2048 elements)."""
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    weight = random((32, 16, 3, 3), seed=30, low=-0.5, high=0.5)

    @mb.program(input_specs=[mb.TensorSpec((1, 16, 8, 8))],
                opset_version=getattr(ct.target, target))
    def prog(x):
        return mb.conv(x=x, weight=weight, pad_type="same", name="y")

    return ct.convert(prog, convert_to="mlprogram", compute_precision=ct.precision.FLOAT16,
                      minimum_deployment_target=getattr(ct.target, target))


COMPRESSIONS = [
    ("int8", IOS16, "constexpr_affine_dequantize"),
    ("palettize6", IOS16, "constexpr_lut_to_dense"),
    ("palettize4", IOS16, "constexpr_lut_to_dense"),
    ("int8", IOS18, "constexpr_blockwise_shift_scale"),
    ("palettize4", IOS18, "constexpr_lut_to_dense"),
]


@pytest.mark.parametrize(("quantization", "target", "op"), COMPRESSIONS,
                         ids=[f"{q}-{t}" for q, t, _ in COMPRESSIONS])
def test_optimize_coreml_output(tmp_path: Path, quantization: str, target: str, op: str):
    """The exporter's compression calls on a conv: weights equal coremltools' own
    decompression, and the compressed program stays close to the float16 one."""
    from coremltools.converters.mil.frontend.milproto.load import load as milproto_load
    from coremltools.optimize import coreml as opt

    from exporters.formats.coreml.mil import load_program

    base = _conv_model(target)
    if quantization == "int8":
        config = opt.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8")
        model = opt.linear_quantize_weights(base, opt.OptimizationConfig(global_config=config))
    else:
        config = opt.OpPalettizerConfig(mode="kmeans", nbits=int(quantization[-1]))
        model = opt.palettize_weights(base, opt.OptimizationConfig(global_config=config))
    model.save(str(tmp_path / "c.mlpackage"))
    base.save(str(tmp_path / "b.mlpackage"))
    program = load_program(tmp_path / "c.mlpackage")
    assert program.op_types[op] == 1

    spec = model.get_spec()
    pymil = milproto_load(spec, spec.specificationVersion, model.weights_dir)
    compressed = [o for o in pymil.functions["main"].operations if o.op_type == op]
    reference = compressed[0].materialized_val_inference()
    np.testing.assert_array_equal(program.constant(compressed[0].outputs[0].name),
                                  reference.astype(np.float32))

    x = random((1, 16, 8, 8), seed=31)
    got = program.run({"x": x})["y"]
    full = load_program(tmp_path / "b.mlpackage").run({"x": x})["y"]
    error = np.abs(got - full).max() / np.abs(full).max()
    assert error < {"int8": 0.01, "palettize6": 0.05, "palettize4": 0.15}[quantization]


def test_ios17_dequantize(tmp_path: Path):
    from tests.exporters.coreml_mil.programs import IOS17

    q = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    scale = np.array([0.5, 0.25, 2.0], np.float32)
    zp = np.array([1, -2, 0], np.int8)
    got = _add_weight(tmp_path, lambda mb: mb.dequantize(input=q, scale=scale, zero_point=zp,
                                                         axis=0), q.shape, target=IOS17,
                      expect=("dequantize",))
    np.testing.assert_allclose(got, (q - zp[:, None].astype(np.float64)) * scale[:, None])


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 6, 8])
def test_unpack_bits(bits: int):
    from exporters.formats.coreml.mil.reader import unpack_bits

    values = np.random.default_rng(bits).integers(0, 2 ** bits, 37)
    np.testing.assert_array_equal(unpack_bits(pack_lsb_first(values, bits), bits, 37), values)
    if bits == 4:  # int4: two's complement in 4 bits
        signed = np.array([-8, -1, 0, 7, 3, -5])
        packed = pack_lsb_first(signed & 0xF, 4)
        np.testing.assert_array_equal(unpack_bits(packed, 4, 6, signed=True), signed)
