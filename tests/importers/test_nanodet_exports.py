"""The imported NanoDet through every exporter: TFLite fp16 and int8 (calibrated on real
photos), TF.js uint8, CoreML fp16 (per-channel std folded into its image input) and ONNX
int8 each pass the parity gate against the imported
SavedModel (fp32 TFLite and TF.js: the ``nanodet_exports`` fixture), and keep finding the
photos' classes. The licence files and terms travel with every export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.importers.photos import EXPECTED, LOW_THRESHOLD, photo

pytestmark = pytest.mark.slow

LICENCES = ("LICENSE", "NOTICE", "LICENSE.human-models")


def _check(folder: Path) -> dict:
    parity = json.loads((folder / "parity.json").read_text())
    assert parity["verdict"] == "pass", parity
    spec = json.loads((folder / "detector.json").read_text())
    assert spec["provenance"]["title"] == "COCO (NanoDet)"
    assert spec["provenance"]["source_license"].startswith("Apache-2.0")
    return parity


@pytest.mark.parametrize(("fmt", "quantization", "calib"), [
    ("tflite", "fp16", None), ("tflite", "int8", "photos"), ("tfjs", "uint8", None),
    ("coreml", "fp16", None), ("onnx", "int8", "photos")])
def test_export_passes_parity(nanodet, tmp_path, fmt, quantization, calib):
    from exporters.export import ExportStatus, export

    result = export(nanodet, fmt, quantization, out_root=tmp_path, calib=calib)
    assert result.status == ExportStatus.OK, result
    # ORT's quantizer writes its failed shape inference into the working directory when
    # the graph defeats it (this one does): the exporter keeps it in a temporary folder.
    assert not list(Path.cwd().glob("sym_shape_infer_temp*"))
    parity = _check(result.out_dir)
    print(fmt, quantization, result.spec.provenance.get("quantization"), parity["raw"],
          parity["detections"])
    for name in LICENCES:
        assert (result.out_dir / name).read_bytes() == (nanodet / name).read_bytes()
    if fmt == "tflite":  # the Python runtime runs it: the classes are still found
        import sdk

        detector = sdk.load(result.out_dir)
        for name, (label, threshold) in EXPECTED.items():
            found = [(d.label, d.score) for d in detector.detect(
                photo(name), score_threshold=LOW_THRESHOLD)]
            slack = 0.1 if quantization == "int8" else 0.02
            assert any(lbl == label and s >= threshold - slack for lbl, s in found), found


def test_fp32_exports_carry_licences(nanodet, nanodet_exports):
    for folder in ("nanodet-tfjs-fp32", "nanodet-tflite-fp32"):
        _check(nanodet_exports / folder)
        for name in LICENCES:
            assert (nanodet_exports / folder / name).read_bytes() == (nanodet / name).read_bytes()
