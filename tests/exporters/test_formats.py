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
# Off macOS CoreML runs in the numpy ML-program interpreter, which reports no latency (its
# speed says nothing about a device's).
UNTIMED = {"coreml"} if sys.platform != "darwin" else set()


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "quantization"), CELLS)
def test_export_cell(source, calib, tiny_data: Path, tmp_path: Path, fmt: str,
                     quantization: str):
    # Low-bit exports are judged by ΔmAP on an evaluation split, as a user would run them
    # (the random test network is far more fragile under int8 than a trained one).
    low_bit = get_format(fmt).budget_class[quantization] == LOW_BIT
    result = export(source, fmt, quantization, out_root=tmp_path, calib=calib, latency_runs=3,
                    data=tiny_data if low_bit else None)

    assert result.status == "ok", result.parity.reasons
    assert result.parity.verdict == "pass"
    if result.spec.outputs.kind == "canonical":  # post-NMS outputs have no raw counterpart
        assert result.parity.raw["scores"]["cosine"] > 0.9
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
    if fmt not in UNTIMED:
        assert len(result.latency_ms) == 3 and spec.metrics["latency_ms"]["p50"] > 0
    if low_bit:
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
    assert result.checks["nms"].startswith(f"iou {source.spec.nms.iou_threshold:g}, ")
    # Checked numerically here too: by Core ML on macOS, by the interpreter elsewhere.
    assert result.status == "ok" and result.parity.raw["scores"]["cosine"] > 0.999
    assert ("interpreter" in result.parity.runtime) == (sys.platform != "darwin")


@pytest.mark.slow
def test_a_palettize4_export_over_its_budget_fails_like_any_other(source, tmp_path: Path):
    from dataclasses import replace

    from exporters.errors import ParityError
    from exporters.parity import DEFAULT_BUDGETS

    # 4-bit weights move the tiny network's scores (cosine ~0.97): an fp16-strict cosine
    # floor on the int8 class must fail it, not let it through as "unchecked".
    strict = {LOW_BIT: replace(DEFAULT_BUDGETS[LOW_BIT], min_cosine=0.9999)}
    with pytest.raises(ParityError, match="cosine") as failed:
        export(source, "coreml", "palettize4", out_root=tmp_path, budgets=strict)
    assert failed.value.report.verdict == "fail" and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_coreml_export_with_an_op_the_interpreter_lacks_fails_naming_it(
        source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from exporters.errors import ExportError
    from exporters.formats.coreml.mil import ops

    if sys.platform == "darwin":
        pytest.skip("on macOS Core ML itself runs the export, not the interpreter")
    # The converted detector holds conv ops; without a conv kernel the check must refuse it.
    monkeypatch.delitem(ops.KERNELS, "conv")
    with pytest.raises(ExportError, match="does not support op 'conv'"):
        export(source, "coreml", "fp16", out_root=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


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
