"""The interpreter against Core ML itself, where ``predict`` exists (macOS).

The cases are the semantics the interpreter had to pin down from documentation: pad types,
depthwise multipliers, every resize sampling mode (fractional factors included), ceil-mode
pooling, float16 rounding, and a whole detector export. Off macOS there is no Core ML to ask,
so these tests skip (the other tests check the same ops against numpy and TensorFlow).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import convert, random

macos_only = pytest.mark.skipif(
    sys.platform != "darwin",
    reason=f"Core ML predict needs macOS (Apple's CoreML framework), not {sys.platform}: the "
           f"interpreter is checked against numpy/TensorFlow references only")
X_SHAPE = (1, 4, 10, 9)


def _semantics(mb, x, dtype):
    w = random((6, 4, 3, 3), seed=1, low=-1, high=1).astype(dtype)
    dw = random((8, 1, 3, 3), seed=2, low=-1, high=1).astype(dtype)
    three = dtype(3.0)
    out = {
        "conv_same_s2": mb.conv(x=x, weight=w, pad_type="same", strides=[2, 2]),
        "conv_same_lower_s2": mb.conv(x=x, weight=w, pad_type="same_lower", strides=[2, 2]),
        "conv_custom": mb.conv(x=x, weight=w, pad_type="custom", pad=[2, 0, 1, 3]),
        "conv_dilated": mb.conv(x=x, weight=w, pad_type="same", dilations=[2, 2]),
        "depthwise_x2_s2": mb.conv(x=x, weight=dw, pad_type="same", strides=[2, 2], groups=4),
        "upsample_nearest_frac": mb.upsample_nearest_neighbor(
            x=x, scale_factor_height=2.5, scale_factor_width=1.5),
        "resize_nearest_frac": mb.resize_nearest_neighbor(x=x, target_size_height=25,
                                                          target_size_width=13),
        "upsample_bilinear_align": mb.upsample_bilinear(x=x, scale_factor_height=2.0,
                                                        scale_factor_width=1.5,
                                                        align_corners=True),
        "upsample_bilinear_half": mb.upsample_bilinear(x=x, scale_factor_height=2.0,
                                                       scale_factor_width=1.5,
                                                       align_corners=False),
        "max_pool_ceil": mb.max_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2],
                                     pad_type="custom", pad=[1, 1, 0, 0], ceil_mode=True),
        "avg_pool_same": mb.avg_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="same",
                                     exclude_padding_from_average=True),
        "softmax": mb.softmax(x=x, axis=1),
        "chain": mb.sub(x=mb.real_div(x=mb.mul(x=x, y=three), y=three), y=x),
    }
    for mode in ("STRICT_ALIGN_CORNERS", "ALIGN_CORNERS", "DEFAULT", "OFFSET_CORNERS",
                 "UNALIGN_CORNERS"):
        out[f"resize_bilinear_{mode}"] = mb.resize_bilinear(
            x=x, target_size_height=7, target_size_width=13, sampling_mode=mode)
    return out


def _package(tmp_path: Path, fp16: bool) -> Path:
    from coremltools.converters.mil import Builder as mb

    dtype = np.float16 if fp16 else np.float32
    return convert(lambda x: _semantics(mb, x, dtype), {"x": X_SHAPE},
                   tmp_path / "semantics.mlpackage", fp16=fp16)


def test_the_compared_program_runs_here(tmp_path: Path):
    """What the macOS test compares is a valid program the interpreter runs (shape-checked)."""
    from exporters.formats.coreml.mil import load_program

    out = load_program(_package(tmp_path, fp16=True)).run({"x": random(X_SHAPE, seed=3)})
    assert len(out) == 18 and all(np.isfinite(v).all() for v in out.values())


@macos_only
@pytest.mark.parametrize("fp16", [False, True], ids=["fp32", "fp16"])
def test_interpreter_matches_core_ml_predict(tmp_path: Path, fp16: bool):
    import coremltools as ct

    from exporters.formats.coreml.mil import load_program

    package = _package(tmp_path, fp16)
    x = random(X_SHAPE, seed=3)
    core_ml = ct.models.MLModel(str(package), compute_units=ct.ComputeUnit.CPU_ONLY)
    want = core_ml.predict({"x": x})
    got = load_program(package).run({"x": x})
    # Core ML may accumulate float16 programs in float32 or float16: a few fp16 ulps apart
    tolerance = {"rtol": 1e-2, "atol": 1e-2} if fp16 else {"rtol": 1e-4, "atol": 1e-5}
    for name, value in got.items():
        np.testing.assert_allclose(value, want[name], **tolerance, err_msg=name)


@macos_only
@pytest.mark.slow
def test_detector_export_matches_core_ml(smooth_source, probes, tmp_path: Path):
    from exporters.export import export
    from exporters.formats.coreml.format import CoreMLRunner
    from exporters.formats.coreml.mil.runner import InterpreterRunner

    result = export(smooth_source, "coreml", "fp16", out_root=tmp_path)
    mine = InterpreterRunner(result.artifact, result.spec).run(probes)
    core_ml = CoreMLRunner(result.artifact, result.spec).run(probes)
    for got, want in zip(mine, core_ml, strict=True):
        cosine = float(np.sum(got * want) / (np.linalg.norm(got) * np.linalg.norm(want)))
        assert cosine > 0.9999
        assert np.abs(got - want).max() < 0.02
