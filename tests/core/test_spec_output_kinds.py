"""``outputs.kind`` in ``detector.json``: defaults, validation naming the field, round trips."""

from __future__ import annotations

import json

import pytest

from sdk.spec import DetectorSpec, SpecError

BASE = {"schema_version": 1, "input": {"size": [96, 128]}, "labels": ["a", "b"]}
DETECTIONS = {"kind": "detections", "locations": "loc", "classes": "cls", "scores": "sc",
              "num_detections": "num"}
YOLO = {"kind": "yolo", "predictions": "output0", "box_units": "normalized"}


def parse(outputs: dict) -> DetectorSpec:
    return DetectorSpec.from_dict({**BASE, "outputs": outputs}, "d.json")


def test_kind_defaults_to_canonical_and_canonical_files_are_unchanged():
    spec = DetectorSpec.from_dict(BASE, "d.json")
    assert spec.outputs.kind == "canonical"
    assert spec.outputs.tensor_names == ("boxes", "scores")
    # No new keys in what exporters write: existing detector.json files stay byte-identical.
    assert spec.to_dict()["outputs"] == {"boxes": "boxes", "scores": "scores",
                                         "order": ["boxes", "scores"], "box_layout": "xyxy",
                                         "num_anchors": 0}
    assert parse({"kind": "canonical"}).to_dict() == spec.to_dict()


@pytest.mark.parametrize("outputs", [DETECTIONS, {**DETECTIONS, "label_offset": 1}, YOLO,
                                     {**YOLO, "layout": "anchors_first", "num_anchors": 8400}])
def test_other_kinds_round_trip(tmp_path, outputs):
    spec = parse(outputs)
    path = spec.save(tmp_path)
    assert DetectorSpec.load(path) == spec
    assert json.loads(path.read_text())["outputs"]["kind"] == outputs["kind"]


def test_tensor_names_follow_the_kind():
    assert parse(DETECTIONS).outputs.tensor_names == ("loc", "cls", "sc", "num")
    assert parse(YOLO).outputs.tensor_names == ("output0",)


@pytest.mark.parametrize("outputs, needle", [
    ({"kind": "ssd"}, "field 'outputs.kind' must be one of"),
    ({k: v for k, v in DETECTIONS.items() if k != "classes"},
     "field 'outputs.classes' is required when outputs.kind is 'detections'"),
    ({**DETECTIONS, "scores": ""}, "field 'outputs.scores' must be a non-empty tensor name"),
    ({**DETECTIONS, "label_offset": -1}, "field 'outputs.label_offset' must be a non-negative"),
    ({**DETECTIONS, "layout": "anchors_first"},
     "field 'outputs' has keys ['layout'] that kind 'detections' does not use"),
    ({"kind": "yolo", "predictions": "p"}, "field 'outputs.box_units' is required"),
    ({**YOLO, "box_units": "cells"}, "field 'outputs.box_units' is required"),
    ({**YOLO, "layout": "NCHW"}, "field 'outputs.layout' must be one of"),
    ({k: v for k, v in YOLO.items() if k != "predictions"},
     "field 'outputs.predictions' is required"),
    ({"boxes": "b", "label_offset": 1}, "that kind 'canonical' does not use"),
    ({**YOLO, "num_anchors": "many"}, "field 'outputs.num_anchors'"),
])
def test_bad_outputs_name_the_field(outputs, needle):
    with pytest.raises(SpecError) as err:
        parse(outputs)
    assert str(err.value).startswith("d.json: ") and needle in str(err.value)


def test_readme_examples_of_each_kind_are_valid():
    """The hand-written detector.json examples of README "Bring your own detector" parse."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Bring your own detector"):]
    section = section[:section.index("\n### ", 1)]
    kinds = [DetectorSpec.from_dict(json.loads(block), "README.md").outputs.kind
             for block in re.findall(r"```json\n(.*?)```", section, re.S)]
    assert kinds == ["canonical", "detections", "yolo"]
