"""The ONNX export: static input, named outputs, detector.json in metadata_props, the parity
gate in onnxruntime, and ``sdk.load`` / ``sdk bench`` running it like the TFLite export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sdk
from exporters.export import ExportResult, export
from exporters.formats.base import BackendRunner
from exporters.parity import DEFAULT_BUDGETS
from exporters.registry import get_format
from sdk.data import load_dataset
from sdk.evaluate import coco_metrics, predict_dataset
from sdk.preprocess import preprocess
from sdk.probes import synthetic_probes
from sdk.spec import DetectorSpec
from tests.exporters.agreement import agreement, misses

QUANTS = ("fp32", "fp16", "int8")
FILES = ["README.md", "detector.json", "model.onnx", "parity.json", "reference.json"]


@pytest.fixture(scope="module")
def onnx_exports(source, calib, tiny_data: Path, tmp_path_factory: pytest.TempPathFactory,
                 ) -> dict[str, ExportResult]:
    """The confident tiny Fast detector exported to ONNX fp32/fp16/int8 and TFLite fp32."""
    root = tmp_path_factory.mktemp("onnx-exports")
    made = {q: export(source, "onnx", q, out_root=root, calib=calib,
                      data=tiny_data if q == "int8" else None) for q in QUANTS}
    made["tflite"] = export(source, "tflite", "fp32", out_root=root)
    return made


@pytest.mark.slow
@pytest.mark.parametrize("quantization", QUANTS)
def test_the_export_folder_and_its_model(onnx_exports, source, quantization: str):
    import onnx

    result = onnx_exports[quantization]
    assert result.status == "ok", result.parity.reasons
    assert result.out_dir.name == f"{source.name}-onnx-{quantization}"
    assert sorted(p.name for p in result.out_dir.iterdir()) == FILES
    model = onnx.load(str(result.artifact))
    (image,) = model.graph.input
    h, w = source.spec.input.size
    assert [d.dim_value for d in image.type.tensor_type.shape.dim] == [1, h, w, 3]  # static
    assert sorted(o.name for o in model.graph.output) == ["boxes", "scores"]
    embedded = {p.key: p.value for p in model.metadata_props}["detector.json"]
    assert DetectorSpec.from_dict(json.loads(embedded)) == DetectorSpec.load(result.out_dir)
    assert result.spec.provenance["converters"]["tf2onnx"] != "?"
    assert result.parity.runtime.startswith("onnxruntime ")
    if quantization == "int8":  # QDQ: int8 tensors between QuantizeLinear/DequantizeLinear
        ops = {n.op_type for n in model.graph.node}
        assert {"QuantizeLinear", "DequantizeLinear"} <= ops


@pytest.mark.slow
@pytest.mark.parametrize("quantization", QUANTS)
def test_sdk_load_runs_it_and_matches_the_tflite_fp32_detections(onnx_exports, tiny_data: Path,
                                                                 quantization: str):
    det = sdk.load(onnx_exports[quantization].out_dir, num_threads=1)
    lite = sdk.load(onnx_exports["tflite"].out_dir, num_threads=1)
    assert det.backend.name == "onnx/onnxruntime" and det.backend.num_threads == 1
    assert det.backend.session.get_session_options().intra_op_num_threads == 1
    budget = DEFAULT_BUDGETS[get_format("onnx").budget_class[quantization]]
    if quantization == "int8":
        # Judged as the parity gate judges int8: by mAP on an evaluation split (detection by
        # detection, int8 of this random network differs far more than a trained one's).
        val = load_dataset(tiny_data, "val")
        maps = [100 * coco_metrics(val, predict_dataset(
            BackendRunner(d.backend, "").run, val, d.spec.input))["mAP"] for d in (lite, det)]
        assert abs(maps[0] - maps[1]) <= budget.max_delta_map, maps
        return
    # The whole pipeline in two runtimes, judged with the parity gate's budget of the
    # quantization (fp32: >= 99 % of detections matched, IoU >= 0.99, |Δscore| <= 1e-3).
    stats = agreement(lite, det, synthetic_probes())
    assert not misses(stats, budget), stats
    if quantization == "fp32":  # the same network: raw outputs agree closely too
        image = synthetic_probes()[0]
        x, _ = preprocess(image, det.spec.input)
        np.testing.assert_allclose(det.backend.run(x)[1], lite.backend.run(x)[1], atol=1e-4)


@pytest.mark.slow
def test_the_embedded_spec_is_found_without_detector_json(onnx_exports, tmp_path: Path):
    alone = tmp_path / "model.onnx"
    alone.write_bytes(onnx_exports["fp32"].artifact.read_bytes())
    det = sdk.load(alone)
    assert det.spec == DetectorSpec.load(onnx_exports["fp32"].out_dir)
    image = synthetic_probes()[0]
    expected = sdk.load(onnx_exports["fp32"].out_dir).detect_arrays(image)
    np.testing.assert_array_equal(det.detect_arrays(image).boxes, expected.boxes)


@pytest.mark.slow
def test_sdk_bench_runs_the_onnx_export(onnx_exports, source):
    from click.testing import CliRunner

    from sdk.cli import main

    folder = onnx_exports["fp32"].out_dir
    result = CliRunner().invoke(main, [
        "bench", "--format", "onnx", "--quantize", "fp32", "--model", source.name,
        "--exports", str(folder.parent), "--threads", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["runtime"]["name"] == "onnxruntime" and report["runtime"]["backend"] == "cpu"
    assert report["accuracy"]["passed"]
