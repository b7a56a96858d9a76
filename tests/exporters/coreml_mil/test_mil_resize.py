"""Resizing with Core ML's sampling grids: the grid points MIL documents for every sampling
mode, TensorFlow's resize kernels (the conventions coremltools maps onto each MIL op), up and
down, integer and fractional factors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import IOS17, compile_program, random

# Grid points of resize_bilinear's documentation (coremltools 9, iOS15 image_resizing.py) for
# an input [0, 1] (Xin = 2): interpolating [0, 1] returns the grid points themselves.
DOC_GRIDS = {
    ("UNALIGN_CORNERS", 5): [0.0, 0.1, 0.5, 0.9, 1.0],
    ("UNALIGN_CORNERS", 6): [0.0, 0.0, 1 / 3, 2 / 3, 1.0, 1.0],
    ("STRICT_ALIGN_CORNERS", 5): [0.0, 0.25, 0.5, 0.75, 1.0],
    ("ALIGN_CORNERS", 6): [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
    ("DEFAULT", 5): [0.0, 0.4, 0.8, 1.0, 1.0],
    ("DEFAULT", 6): [0.0, 1 / 3, 2 / 3, 1.0, 1.0, 1.0],
    ("OFFSET_CORNERS", 5): [0.1, 0.3, 0.5, 0.7, 0.9],
    ("OFFSET_CORNERS", 6): [1 / 12, 0.25, 5 / 12, 7 / 12, 0.75, 11 / 12],
    # a single output: ALIGN_CORNERS samples the middle, STRICT_ALIGN_CORNERS the start
    ("ALIGN_CORNERS", 1): [0.5],
    ("STRICT_ALIGN_CORNERS", 1): [0.0],
}


def test_resize_bilinear_samples_the_documented_grid(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    def build(x):
        return {f"{mode}_{n}": mb.resize_bilinear(x=x, target_size_height=1, target_size_width=n,
                                                  sampling_mode=mode)
                for mode, n in DOC_GRIDS}

    program = compile_program(build, {"x": (1, 1, 1, 2)}, tmp_path / "grid.mlpackage",
                              expect_ops=("resize_bilinear",))
    out = program.run({"x": np.array([[[[0.0, 1.0]]]], np.float32)})
    for (mode, n), grid in DOC_GRIDS.items():
        np.testing.assert_allclose(out[f"{mode}_{n}"].reshape(-1), grid, atol=1e-6,
                                   err_msg=f"{mode} -> {n}")


def _tf(op: str, x: np.ndarray, size: tuple[int, int], align: bool, half: bool) -> np.ndarray:
    import tensorflow as tf

    fn = tf.raw_ops.ResizeBilinear if op == "bilinear" else tf.raw_ops.ResizeNearestNeighbor
    y = fn(images=x.transpose(0, 2, 3, 1), size=size, align_corners=align,
           half_pixel_centers=half)
    return y.numpy().transpose(0, 3, 1, 2)


X = random((2, 3, 10, 6), seed=21)
# output name -> (op builder, (TF op, size, align_corners, half_pixel_centers))
CASES = {
    "resize_bilinear_default_up": (
        lambda mb, x: mb.resize_bilinear(x=x, target_size_height=17, target_size_width=9,
                                         sampling_mode="DEFAULT"),
        ("bilinear", (17, 9), False, False)),
    "resize_bilinear_default_down": (
        lambda mb, x: mb.resize_bilinear(x=x, target_size_height=4, target_size_width=5,
                                         sampling_mode="DEFAULT"),
        ("bilinear", (4, 5), False, False)),
    "resize_bilinear_strict_align": (
        lambda mb, x: mb.resize_bilinear(x=x, target_size_height=13, target_size_width=4,
                                         sampling_mode="STRICT_ALIGN_CORNERS"),
        ("bilinear", (13, 4), True, False)),
    "resize_bilinear_unalign": (
        lambda mb, x: mb.resize_bilinear(x=x, target_size_height=7, target_size_width=11,
                                         sampling_mode="UNALIGN_CORNERS"),
        ("bilinear", (7, 11), False, True)),
    "upsample_bilinear_align_corners": (
        lambda mb, x: mb.upsample_bilinear(x=x, scale_factor_height=2, scale_factor_width=3,
                                           align_corners=True),
        ("bilinear", (20, 18), True, False)),
    "upsample_bilinear_half_pixel": (
        lambda mb, x: mb.upsample_bilinear(x=x, scale_factor_height=1.5, scale_factor_width=2.0,
                                           align_corners=False),
        ("bilinear", (15, 12), False, True)),
    "upsample_bilinear_legacy": (
        lambda mb, x: mb.upsample_bilinear(x=x, scale_factor_height=2.5, scale_factor_width=2.0,
                                           align_corners=False, half_pixel_centers=False),
        ("bilinear", (25, 12), False, False)),
    "upsample_nearest_integer": (
        lambda mb, x: mb.upsample_nearest_neighbor(x=x, scale_factor_height=2,
                                                   scale_factor_width=3),
        ("nearest", (20, 18), False, False)),
    # what coremltools writes for TF's legacy nearest resize to 25 x 9
    "upsample_nearest_fractional": (
        lambda mb, x: mb.upsample_nearest_neighbor(x=x, scale_factor_height=(25 + 1e-4) / 10,
                                                   scale_factor_width=(9 + 1e-4) / 6),
        ("nearest", (25, 9), False, False)),
    # what coremltools writes for TF's half-pixel nearest resize
    "resize_nearest_fractional": (
        lambda mb, x: mb.resize_nearest_neighbor(x=x, target_size_height=25,
                                                 target_size_width=9),
        ("nearest", (25, 9), False, True)),
    "resize_nearest_down": (
        lambda mb, x: mb.resize_nearest_neighbor(x=x, target_size_height=4, target_size_width=5),
        ("nearest", (4, 5), False, True)),
}


@pytest.fixture(scope="module")
def resized(tmp_path_factory: pytest.TempPathFactory):
    from coremltools.converters.mil import Builder as mb

    program = compile_program(lambda x: {n: make(mb, x) for n, (make, _) in CASES.items()},
                              {"x": X.shape}, tmp_path_factory.mktemp("mil") / "r.mlpackage")
    return program.run({"x": X})


@pytest.mark.parametrize("name", sorted(CASES))
def test_resize_matches_tensorflow(resized, name: str):
    op, size, align, half = CASES[name][1]
    want = _tf(op, X, size, align, half)
    assert resized[name].shape == want.shape
    np.testing.assert_allclose(resized[name], want, rtol=1e-5, atol=1e-5)


def test_nearest_upsampling_by_an_integer_repeats_pixels(resized):
    np.testing.assert_array_equal(resized["upsample_nearest_integer"],
                                  X.repeat(2, axis=2).repeat(3, axis=3))


@pytest.mark.parametrize(("interpolation", "sampling", "tf_case"), [
    ("LINEAR", "UNALIGN_CORNERS", ("bilinear", False, True)),
    ("LINEAR", "STRICT_ALIGN_CORNERS", ("bilinear", True, False)),
    ("NEAREST_NEIGHBOR", "DEFAULT", ("nearest", False, True)),
    ("NEAREST_NEIGHBOR", "STRICT_ALIGN_CORNERS", ("nearest", True, False)),
])
def test_ios17_resize(tmp_path: Path, interpolation: str, sampling: str, tf_case):
    from coremltools.converters.mil import Builder as mb

    program = compile_program(
        lambda x: mb.resize(x=x, shape=np.array([13, 8], np.int32), resized_dims=np.uint32(2),
                            interpolation_mode=interpolation, sampling_mode=sampling),
        {"x": X.shape}, tmp_path / "resize.mlpackage", target=IOS17, expect_ops=("resize",))
    got = program.run({"x": X})["out0"]
    op, align, half = tf_case
    np.testing.assert_allclose(got, _tf(op, X, (13, 8), align, half), rtol=1e-5, atol=1e-5)
