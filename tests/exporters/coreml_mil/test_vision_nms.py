"""The Vision pipeline's NonMaximumSuppression stage is checked against detector.json.

The pipeline is built by the exporter's own code (:mod:`exporters.formats.coreml.vision`)
around a tiny stand-in detector (a MIL program with the detector's input and outputs), then
checked against the detector.json it was built from and against ones that disagree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from exporters.errors import ExportError
from exporters.formats.coreml.check import check_nms, check_pipeline
from sdk.spec import DetectorSpec, InputSpec, NmsSpec, OutputSpec

SPEC = DetectorSpec(input=InputSpec(size=(32, 32)), labels=("circle", "square", "star"),
                    outputs=OutputSpec(num_anchors=6),
                    nms=NmsSpec(iou_threshold=0.45, score_threshold=0.25))


def _detector(spec: DetectorSpec) -> Any:
    """images [1, H, W, 3] -> boxes [1, N, 4], scores [1, N, C] (values do not matter)."""
    import coremltools as ct
    import numpy as np
    from coremltools.converters.mil import Builder as mb

    h, w = spec.input.size
    n, c = spec.outputs.num_anchors, spec.num_classes

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, h, w, 3))], opset_version=ct.target.iOS16)
    def prog(images):
        pooled = mb.reduce_mean(x=images, axes=[1, 2], keep_dims=False)  # [1, 3]
        flat = mb.tile(x=mb.reshape(x=pooled, shape=[1, 1, 3]), reps=[1, n, 1])
        boxes = mb.concat(values=[flat, mb.slice_by_index(x=flat, begin=[0, 0, 0],
                                                           end=[1, n, 1])], axis=2)
        scores = mb.sigmoid(x=mb.slice_by_index(x=mb.tile(x=flat, reps=[1, 1, c]),
                                                begin=[0, 0, 0], end=[1, n, c]))
        return mb.identity(x=boxes, name="boxes"), mb.identity(x=scores, name="scores")

    return ct.convert(prog, inputs=[ct.TensorType(name="images", shape=(1, h, w, 3))],
                      outputs=[ct.TensorType(name=o, dtype=np.float32)
                               for o in ("boxes", "scores")],
                      minimum_deployment_target=ct.target.iOS16)


@pytest.fixture(scope="module")
def pipeline() -> Any:
    from exporters.formats.coreml.vision import vision_pipeline

    return vision_pipeline(_detector(SPEC), SPEC).get_spec()


def test_the_exporters_pipeline_passes(pipeline):
    checked = check_pipeline(pipeline, SPEC)
    assert checked["nms_labels"] == 3 and checked["nms"] == "iou 0.45, score 0.25, per class"
    assert checked["vision_pipeline"].endswith("-> nonMaximumSuppression")


@pytest.mark.parametrize(("spec", "named"), [
    (replace(SPEC, nms=replace(SPEC.nms, iou_threshold=0.6)), "iouThreshold 0.45"),
    (replace(SPEC, nms=replace(SPEC.nms, score_threshold=0.3)), "confidenceThreshold 0.25"),
    (replace(SPEC, nms=replace(SPEC.nms, class_agnostic=True)), "perClass"),
    (replace(SPEC, labels=("circle", "star", "square")), "labels"),
    (replace(SPEC, input=replace(SPEC.input, size=(32, 48))), "image input 32x32"),
], ids=["iou", "score", "class-agnostic", "labels", "size"])
def test_a_pipeline_disagreeing_with_detector_json_is_refused(pipeline, spec, named: str):
    with pytest.raises(ExportError, match="CoreML structural check failed") as refused:
        check_pipeline(pipeline, spec)
    assert named in str(refused.value)


@pytest.mark.parametrize(("field", "value"), [
    ("confidenceInputFeatureName", "raw_scores"),
    ("coordinatesOutputFeatureName", "boxes"),
    ("iouThresholdInputFeatureName", "iou"),
])
def test_renamed_nms_features_are_refused(pipeline, field: str, value: str):
    import coremltools as ct

    nms = ct.proto.Model_pb2.Model()
    nms.CopyFrom(pipeline.pipeline.models[-1])
    setattr(nms.nonMaximumSuppression, field, value)
    with pytest.raises(ExportError, match=f"NMS {field} is '{value}'"):
        check_nms(nms, SPEC)


def test_an_nms_input_no_stage_produces_is_refused(pipeline):
    import coremltools as ct

    broken = ct.proto.Model_pb2.Model()
    broken.CopyFrom(pipeline)
    broken.pipeline.models[-2].description.output[0].name = "elsewhere"
    with pytest.raises(ExportError, match="is produced by no earlier stage"):
        check_pipeline(broken, SPEC)
