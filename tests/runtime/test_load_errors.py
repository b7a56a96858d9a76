"""Load-time checks: every broken export fails at ``load`` with a message naming the problem."""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

import sdk
from sdk.runtime import RuntimeLoadError
from sdk.spec import DetectorSpec, OutputSpec, SpecError

pytestmark = pytest.mark.slow


def _copy(exports, tmp_path: Path) -> Path:
    return Path(shutil.copytree(exports.tflite, tmp_path / "export"))


def _edit_spec(folder: Path, **changes) -> None:
    spec = DetectorSpec.load(folder)
    replace(spec, **changes).save(folder)


def test_missing_path(tmp_path):
    with pytest.raises(RuntimeLoadError, match="no such file"):
        sdk.load(tmp_path / "nope")


def test_corrupt_model_file(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    (folder / "model.tflite").write_bytes(b"not a flatbuffer" * 100)
    with pytest.raises(RuntimeLoadError, match="not a valid TFLite model"):
        sdk.load(folder)


def test_missing_spec_explains_how_to_write_one(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    (folder / "detector.json").unlink()
    with pytest.raises(SpecError, match="Bring your own detector"):
        sdk.load(folder)


def test_unsupported_schema_version(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    data = json.loads((folder / "detector.json").read_text())
    (folder / "detector.json").write_text(json.dumps({**data, "schema_version": 99}))
    with pytest.raises(SpecError, match="unsupported schema_version 99"):
        sdk.load(folder)


def test_label_count_mismatch_names_both_shapes(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    _edit_spec(folder, labels=("a", "b"))
    with pytest.raises(RuntimeLoadError, match=r"expects \[1, \d+, 2\] \(2 labels\)"):
        sdk.load(folder)


def test_input_size_mismatch(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    spec = DetectorSpec.load(folder)
    spec.with_input(size=(128, 128)).save(folder)
    with pytest.raises(RuntimeLoadError, match=r"input.size \[128, 128\]"):
        sdk.load(folder)


def test_input_dtype_mismatch(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    spec = DetectorSpec.load(folder)
    spec.with_input(dtype="int8", quant_scale=0.01, quant_zero_point=0).save(folder)
    with pytest.raises(RuntimeLoadError, match="input dtype float32 but detector.json"):
        sdk.load(folder)


def test_unknown_output_name_lists_the_real_ones(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    _edit_spec(folder, outputs=OutputSpec(boxes="detection_boxes"))
    with pytest.raises(RuntimeLoadError, match=r"\['detection_boxes'\].*'boxes'"):
        sdk.load(folder)


def test_anchor_count_mismatch(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    _edit_spec(folder, outputs=OutputSpec(num_anchors=7))
    with pytest.raises(RuntimeLoadError, match="num_anchors says 7"):
        sdk.load(folder)


def test_several_models_in_a_folder_must_be_chosen(exports, tmp_path):
    folder = _copy(exports, tmp_path)
    shutil.copy(folder / "model.tflite", folder / "other.tflite")
    with pytest.raises(RuntimeLoadError, match="several models"):
        sdk.load(folder)
    assert sdk.load(folder / "other.tflite").spec == DetectorSpec.load(folder)


def test_spec_embedded_in_the_tflite_file(exports, tmp_path):
    """TFLite metadata packs associated files as a zip appended to the flatbuffer."""
    folder = _copy(exports, tmp_path)
    with zipfile.ZipFile(folder / "model.tflite", "a") as archive:
        archive.write(folder / "detector.json", "detector.json")
    (folder / "detector.json").unlink()
    assert sdk.load(folder / "model.tflite").spec == DetectorSpec.load(exports.tflite)


def test_hand_written_spec_with_tensor_names(exports, tmp_path, busy_image):
    """Bring your own detector: outputs may be named by tensor name, spec passed explicitly."""
    from ai_edge_litert.interpreter import Interpreter

    folder = _copy(exports, tmp_path)
    interp = Interpreter(model_path=str(folder / "model.tflite"))
    by_shape = {tuple(d["shape"])[-1]: d["name"] for d in interp.get_output_details()}
    spec = DetectorSpec.load(folder)
    handmade = {"schema_version": 1, "input": {"size": list(spec.input.size)},
                "labels": list(spec.labels),
                "outputs": {"boxes": by_shape[4], "scores": by_shape[spec.num_classes]}}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(handmade))
    (folder / "detector.json").unlink()
    det = sdk.load(folder / "model.tflite", spec=path)
    reference = sdk.load(exports.tflite).detect(busy_image)
    assert reference and det.detect(busy_image) == reference
