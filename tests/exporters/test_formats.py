"""Every format x quantization converts, passes its gate and carries a valid detector.json."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from exporters.export import export
from exporters.formats.base import LOW_BIT
from exporters.registry import FORMATS, get_format
from sdk.spec import DetectorSpec

CELLS = [(f, q) for f in FORMATS for q in get_format(f).quantizations]
# Where a format's runtime does not exist (CoreML off macOS) the export is validated
# structurally and its status says so.
UNCHECKED = {"coreml"} if sys.platform != "darwin" else set()


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "quantization"), CELLS)
def test_export_cell(source, calib, tiny_data: Path, tmp_path: Path, fmt: str,
                     quantization: str):
    # Low-bit exports are judged by ΔmAP on an evaluation split, as a user would run them
    # (the random test network is far more fragile under int8 than a trained one).
    low_bit = get_format(fmt).budget_class[quantization] == LOW_BIT
    result = export(source, fmt, quantization, out_root=tmp_path, calib=calib, latency_runs=3,
                    data=tiny_data if low_bit else None)

    assert result.status == ("unchecked" if fmt in UNCHECKED else "ok"), result.parity.reasons
    assert result.out_dir == tmp_path / f"{source.name}-{fmt}-{quantization}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [result.out_dir.name]  # no temp left
    spec = DetectorSpec.load(result.out_dir)  # validates
    assert spec.provenance["format"] == fmt and spec.provenance["quantization"] == result.variant
    assert spec.provenance["source_weights_sha256"] == source.spec.provenance[
        "source_weights_sha256"]
    assert spec.metrics["parity"] == result.parity.verdict
    assert get_format(fmt)().read_metadata(result.artifact).to_dict() == spec.to_dict()
    assert result.size_bytes > 0 and result.checks["embedded_spec"] == "matches"
    readme = (result.out_dir / "README.md").read_text()
    assert ("sdk.load" in readme) == get_format(fmt).python_runtime
    if get_format(fmt).python_runtime:  # what the README promises works
        import sdk

        sdk.load(result.out_dir).detect(next((tiny_data / "val").glob("*.jpg")))
    if fmt not in UNCHECKED:
        assert len(result.latency_ms) == 3 and spec.metrics["latency_ms"]["p50"] > 0
    if low_bit and fmt not in UNCHECKED:
        assert spec.metrics["eval"]["delta_mAP"] == result.parity.delta_map


@pytest.mark.slow
def test_tflite_spec_is_readable_without_tensorflow(source, tmp_path: Path):
    """The runtime reads the appended associated file with the stdlib zip reader."""
    from sdk.runtime.locate import embedded_spec

    result = export(source, "tflite", "fp16", out_root=tmp_path)
    (result.out_dir / "detector.json").unlink()
    assert embedded_spec(result.artifact).to_dict() == result.spec.to_dict()


@pytest.mark.slow
def test_coreml_vision_pipeline_structure(source, tmp_path: Path):
    import coremltools as ct

    result = export(source, "coreml", "fp16", out_root=tmp_path)
    pipeline = ct.utils.load_spec(str(result.out_dir / "Detector.mlpackage"))
    nms = pipeline.pipeline.models[-1].nonMaximumSuppression
    assert list(nms.stringClassLabels.vector) == list(source.spec.labels)
    assert nms.iouThreshold == pytest.approx(source.spec.nms.iou_threshold)
    inputs = {f.name for f in pipeline.description.input}
    assert inputs == {"image", "iouThreshold", "confidenceThreshold"}
    assert {f.name for f in pipeline.description.output} == {"confidence", "coordinates"}
    assert result.checks["vision_pipeline"].endswith("nonMaximumSuppression")
    if sys.platform != "darwin":
        assert "macOS" in result.parity.reasons[0]


@pytest.mark.slow
def test_a_savedmodel_export_is_itself_a_source(source, tmp_path: Path):
    from exporters.source import open_source

    first = export(source, "savedmodel", out_root=tmp_path / "a")
    with open_source(first.out_dir) as again:
        assert again.name == first.out_dir.name and again.spec.metrics == {}
        assert again.spec.provenance["source_weights_sha256"] == source.spec.provenance[
            "source_weights_sha256"]
        second = export(again, "tflite", "fp32", out_root=tmp_path / "b")
    assert second.status == "ok" and second.parity.raw["scores"]["max_abs"] < 1e-4
