"""Static ``[1, H, W, 3]`` inputs (what LiteRT.js, GPU delegates and NPUs need), old
dynamic-batch files still running, and the ``uint8_input`` option (pixels in, normalization
in the graph) for TFLite and ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sdk
from exporters.errors import ExportError
from exporters.export import ExportResult, export
from exporters.formats.base import HALF
from exporters.parity import DEFAULT_BUDGETS
from exporters.registry import get_format
from sdk.preprocess import preprocess, resize_to_input
from sdk.probes import synthetic_probes
from sdk.spec import DetectorSpec
from tests.exporters.agreement import agreement, misses

CELLS = {"tflite-fp32": ("tflite", "fp32", {}), "tflite-fp16": ("tflite", "fp16", {}),
         "tflite-int8": ("tflite", "int8", {}),
         "tflite-fp32-u8": ("tflite", "fp32", {"uint8_input": True}),
         "tflite-int8-u8": ("tflite", "int8", {"uint8_input": True}),
         "onnx-fp32-u8": ("onnx", "fp32", {"uint8_input": True})}


@pytest.fixture(scope="module")
def made(source, calib, tiny_data: Path, tmp_path_factory: pytest.TempPathFactory,
         ) -> dict[str, ExportResult]:
    """The confident tiny Fast detector exported as each of :data:`CELLS`."""
    root = tmp_path_factory.mktemp("static")
    return {key: export(source, fmt, quant, out_root=root / key, calib=calib, options=opts,
                        data=tiny_data if quant == "int8" else None)
            for key, (fmt, quant, opts) in CELLS.items()}


def _input_detail(path: Path) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    (detail,) = Interpreter(model_path=str(path)).get_input_details()
    return detail


def _same_detections(a: sdk.Detector, b: sdk.Detector) -> None:
    """The same network run two ways (other graph or runtime): the raw scores agree to
    1e-4, and the detections within the fp16 parity budget (a score 1e-6 from the
    threshold or an IoU 1e-6 from the NMS limit flips a detection of this random network)."""
    x, _ = preprocess(synthetic_probes()[0], a.spec.input)
    y, _ = preprocess(synthetic_probes()[0], b.spec.input)
    np.testing.assert_allclose(a.backend.run(x)[1], b.backend.run(y)[1], atol=1e-4)
    stats = agreement(a, b, synthetic_probes())
    assert not misses(stats, DEFAULT_BUDGETS[HALF]), stats


@pytest.mark.slow
@pytest.mark.parametrize("key", ["tflite-fp32", "tflite-fp16", "tflite-int8",
                                 "tflite-fp32-u8", "tflite-int8-u8"])
def test_tflite_exports_have_a_static_input(made, source, key: str):
    result = made[key]
    assert result.status == "ok", result.parity.reasons
    h, w = source.spec.input.size
    detail = _input_detail(result.artifact)
    assert list(detail["shape_signature"]) == [1, h, w, 3]  # not [-1, h, w, 3]
    assert detail["dtype"] == np.dtype(result.spec.input.dtype)
    from ai_edge_litert.interpreter import Interpreter

    signatures = Interpreter(model_path=str(result.artifact)).get_signature_list()
    assert signatures["serving_default"]["outputs"] == ["boxes", "scores"]


@pytest.mark.slow
def test_a_dynamic_batch_tflite_file_still_runs(made, source, tmp_path: Path):
    import tensorflow as tf

    old = tmp_path / "model.tflite"  # how exports were converted before: batch -1
    old.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(source.saved_model)).convert())
    assert _input_detail(old)["shape_signature"][0] == -1
    static = made["tflite-fp32"]
    _same_detections(sdk.load(static.out_dir, num_threads=1),
                     sdk.load(old, spec=static.spec, num_threads=1))


@pytest.mark.slow
@pytest.mark.parametrize("key", ["tflite-fp32-u8", "tflite-int8-u8", "onnx-fp32-u8"])
def test_uint8_input_takes_the_pixels_and_normalizes_in_the_graph(made, source, key: str):
    result = made[key]
    assert result.status == "ok", result.parity.reasons
    spec = DetectorSpec.load(result.out_dir)
    assert (spec.input.dtype, spec.input.mean, spec.input.std) == ("uint8", (0.0,) * 3,
                                                                   (1.0,) * 3)
    assert (spec.input.quant_scale, spec.input.quant_zero_point) == (1.0, 0)
    moved = spec.provenance["input_normalization"]
    assert moved["mean"] == list(source.spec.input.mean)
    assert moved["std"] == list(source.spec.input.std)
    image = synthetic_probes()[0]
    pixels, _ = resize_to_input(image, spec.input)
    np.testing.assert_array_equal(preprocess(image, spec.input)[0][0], pixels)  # as they are
    if key.endswith("fp32-u8"):  # the same network as the float export, fed differently
        _same_detections(sdk.load(made["tflite-fp32"].out_dir, num_threads=1),
                         sdk.load(result.out_dir, num_threads=1))


def test_int8_io_and_uint8_input_are_exclusive():
    with pytest.raises(ExportError, match="--int8-io and --uint8-input"):
        get_format("tflite")(int8_io=True, uint8_input=True).check_args("int8", object())
