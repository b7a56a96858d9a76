"""Structural validation of CoreML exports: what can be checked where ``predict`` cannot run.

Checks the feature names, shapes and types against detector.json, the configuration of the
NMS stage (labels, IoU and score thresholds, per-class picking, feature names), and that the
NMS stage receives float32 (Vision rejects fp16 NMS inputs). The numerics of the detector
itself are checked by the parity gate (Core ML, or the interpreter off macOS).
"""

from __future__ import annotations

from typing import Any

from exporters.errors import ExportError
from exporters.formats.coreml.vision import (
    CONFIDENCE,
    CONFIDENCE_INPUT,
    COORDINATES,
    IMAGE_INPUT,
    IOU_INPUT,
)
from sdk.spec import DetectorSpec

_FLOAT32 = 65568  # ArrayFeatureType.FLOAT32


def _features(features: Any) -> dict[str, Any]:
    return {f.name: f.type for f in features}


def _require(cond: bool, what: str) -> None:
    if not cond:
        raise ExportError(f"CoreML structural check failed: {what}")


def _array(ftype: Any, name: str, shape: list[int]) -> None:
    _require(ftype.WhichOneof("Type") == "multiArrayType", f"{name} is not a multi-array")
    got = list(ftype.multiArrayType.shape)
    _require(got == shape, f"{name} has shape {got}, detector.json implies {shape}")
    _require(ftype.multiArrayType.dataType == _FLOAT32, f"{name} is not float32")


def check_detector(mlspec: Any, spec: DetectorSpec) -> dict[str, Any]:
    """The raw model: ``images`` [1, H, W, 3] -> ``boxes`` [1, N, 4], ``scores`` [1, N, C]."""
    h, w = spec.input.size
    n, c = spec.outputs.num_anchors, spec.num_classes
    inputs, outputs = _features(mlspec.description.input), _features(mlspec.description.output)
    _require(list(inputs) == [spec.input.name], f"inputs {list(inputs)} != [{spec.input.name}]")
    _array(inputs[spec.input.name], spec.input.name, [1, h, w, 3])
    for name, shape in ((spec.outputs.boxes, [1, n, 4]), (spec.outputs.scores, [1, n, c])):
        _require(name in outputs, f"output {name!r} missing (has {sorted(outputs)})")
        _array(outputs[name], name, shape)
    _require(mlspec.WhichOneof("Type") == "mlProgram", "model is not an mlprogram")
    return {"detector_io": f"{spec.input.name}[1,{h},{w},3] -> boxes[1,{n},4], "
                           f"scores[1,{n},{c}] float32"}


def check_pipeline(mlspec: Any, spec: DetectorSpec) -> dict[str, Any]:
    """The Vision pipeline: image in, NonMaximumSuppression configured per detector.json out."""
    stages = [m.WhichOneof("Type") for m in mlspec.pipeline.models]
    _require(bool(stages) and stages[-1] == "nonMaximumSuppression",
             f"pipeline stages {stages} do not end in nonMaximumSuppression")
    nms_model = mlspec.pipeline.models[-1]
    checked = check_nms(nms_model, spec)
    fed = {f.name for model in mlspec.pipeline.models[:-1] for f in model.description.output}
    for feature in nms_model.description.input:
        if feature.type.WhichOneof("Type") == "multiArrayType":
            _require(feature.name in fed, f"NMS input {feature.name!r} is produced by no "
                                          f"earlier stage (they produce {sorted(fed)})")
    inputs, outputs = _features(mlspec.description.input), _features(mlspec.description.output)
    _require(inputs.get(IMAGE_INPUT) is not None
             and inputs[IMAGE_INPUT].WhichOneof("Type") == "imageType", "no image input")
    image = inputs[IMAGE_INPUT].imageType
    _require([image.height, image.width] == list(spec.input.size),
             f"image input {image.height}x{image.width} != detector.json size")
    _require({IOU_INPUT, CONFIDENCE_INPUT} <= set(inputs), "threshold inputs missing")
    _require({CONFIDENCE, COORDINATES} <= set(outputs), f"outputs {sorted(outputs)}")
    preview = mlspec.description.metadata.userDefined.get("com.apple.coreml.model.preview.type")
    _require(preview == "objectDetector", "Xcode preview type is not objectDetector")
    return {"vision_pipeline": " -> ".join(stages), **checked}


def check_nms(model: Any, spec: DetectorSpec) -> dict[str, Any]:
    """The ``NonMaximumSuppression`` stage against detector.json: labels, IoU and score
    thresholds, per-class or class-agnostic, and the feature names Vision reads."""
    nms = model.nonMaximumSuppression
    labels = list(nms.stringClassLabels.vector)
    _require(labels == list(spec.labels), f"NMS labels {labels} != detector.json labels "
                                          f"{list(spec.labels)}")
    for what, got, wanted in (("iouThreshold", nms.iouThreshold, spec.nms.iou_threshold),
                              ("confidenceThreshold", nms.confidenceThreshold,
                               spec.nms.score_threshold)):
        _require(abs(got - wanted) <= 1e-6, f"NMS {what} {got:g} != detector.json nms "
                                            f"{'iou' if what[0] == 'i' else 'score'}"
                                            f"_threshold {wanted:g}")
    _require(nms.pickTop.perClass == (not spec.nms.class_agnostic),
             f"NMS pickTop.perClass is {nms.pickTop.perClass}, detector.json nms "
             f"class_agnostic is {spec.nms.class_agnostic}")
    names = {"confidenceInputFeatureName": f"raw_{CONFIDENCE}",
             "coordinatesInputFeatureName": f"raw_{COORDINATES}",
             "confidenceOutputFeatureName": CONFIDENCE,
             "coordinatesOutputFeatureName": COORDINATES,
             "iouThresholdInputFeatureName": IOU_INPUT,
             "confidenceThresholdInputFeatureName": CONFIDENCE_INPUT}
    for field, wanted in names.items():
        got = getattr(nms, field)
        _require(got == wanted, f"NMS {field} is {got!r}, not {wanted!r}")
    n, c = spec.outputs.num_anchors, spec.num_classes
    inputs, outputs = _features(model.description.input), _features(model.description.output)
    for name, shape in ((f"raw_{CONFIDENCE}", [n, c]), (f"raw_{COORDINATES}", [n, 4])):
        _require(name in inputs, f"NMS input {name!r} missing (has {sorted(inputs)})")
        _array(inputs[name], f"NMS input {name}", shape)
    for name in (IOU_INPUT, CONFIDENCE_INPUT):
        _require(name in inputs and inputs[name].WhichOneof("Type") == "doubleType",
                 f"NMS input {name!r} is not an optional double")
    for name, width in ((CONFIDENCE, c), (COORDINATES, 4)):
        _require(name in outputs, f"NMS output {name!r} missing (has {sorted(outputs)})")
        ranges = outputs[name].multiArrayType.shapeRange.sizeRanges
        _require(len(ranges) == 2 and ranges[1].lowerBound == ranges[1].upperBound == width,
                 f"NMS output {name} is not [boxes, {width}]")
    return {"nms_labels": len(labels),
            "nms": f"iou {nms.iouThreshold:g}, score {nms.confidenceThreshold:g}, "
                   f"{'per class' if nms.pickTop.perClass else 'class-agnostic'}"}
