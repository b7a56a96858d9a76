"""detector.json: round trip, validation errors naming file and field, atomic writes."""

from __future__ import annotations

import json

import pytest

from sdk.spec import DetectorSpec, InputSpec, SpecError


def _spec() -> DetectorSpec:
    return DetectorSpec(input=InputSpec(size=(320, 320)), labels=("a", "b"))


def test_round_trip(tmp_path):
    spec = _spec().with_provenance(format="tflite").with_metrics(mAP=0.5)
    path = spec.save(tmp_path)
    assert path.name == "detector.json"
    assert DetectorSpec.load(tmp_path) == spec


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d.pop("labels"), "missing field 'labels'"),
    (lambda d: d.update(schema_version=99), "unsupported schema_version 99"),
    (lambda d: d["input"].update(size=[320]), "input.size"),
    (lambda d: d["input"].update(dtype="int8"), "input.quant_scale"),
    (lambda d: d["input"].update(resize="crop"), "input.resize"),
    (lambda d: d["input"].update(std=[0, 1, 1]), "input.std"),
    (lambda d: d["nms"].update(iou_threshold=2), "nms.iou_threshold"),
    (lambda d: d["input"].update(bogus=1), "unknown keys"),
    (lambda d: d.update(labels=[]), "labels"),
])
def test_invalid_fields_are_named(tmp_path, mutate, needle):
    data = _spec().to_dict()
    mutate(data)
    path = tmp_path / "detector.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError) as err:
        DetectorSpec.load(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "detector.json"
    path.write_text('{\n "schema_version": 1,\n oops\n}')
    with pytest.raises(SpecError, match="line 3"):
        DetectorSpec.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        DetectorSpec.load(tmp_path)


def test_save_leaves_no_temp_files(tmp_path):
    _spec().save(tmp_path / "detector.json")
    assert [p.name for p in tmp_path.iterdir()] == ["detector.json"]
