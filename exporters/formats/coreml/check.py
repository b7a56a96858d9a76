"""Structural validation of CoreML exports: what can be checked where ``predict`` cannot run.

Checks the feature names, shapes and types against detector.json, the labels of the NMS
stage, and that the NMS stage receives float32 (Vision rejects fp16 NMS inputs).
"""

from __future__ import annotations

from typing import Any

from exporters.errors import ExportError
from exporters.formats.coreml.vision import CONFIDENCE, COORDINATES, IMAGE_INPUT
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
    """The Vision pipeline: image in, NonMaximumSuppression with the labels out."""
    stages = [m.WhichOneof("Type") for m in mlspec.pipeline.models]
    _require(bool(stages) and stages[-1] == "nonMaximumSuppression",
             f"pipeline stages {stages} do not end in nonMaximumSuppression")
    nms_model = mlspec.pipeline.models[-1]
    labels = list(nms_model.nonMaximumSuppression.stringClassLabels.vector)
    _require(labels == list(spec.labels), f"NMS labels {labels} != detector.json labels")
    for feature in nms_model.description.input:
        if feature.type.WhichOneof("Type") == "multiArrayType":
            _require(feature.type.multiArrayType.dataType == _FLOAT32,
                     f"NMS input {feature.name} is not float32")
    inputs, outputs = _features(mlspec.description.input), _features(mlspec.description.output)
    _require(inputs.get(IMAGE_INPUT) is not None
             and inputs[IMAGE_INPUT].WhichOneof("Type") == "imageType", "no image input")
    image = inputs[IMAGE_INPUT].imageType
    _require([image.height, image.width] == list(spec.input.size),
             f"image input {image.height}x{image.width} != detector.json size")
    _require({"iouThreshold", "confidenceThreshold"} <= set(inputs), "threshold inputs missing")
    _require({CONFIDENCE, COORDINATES} <= set(outputs), f"outputs {sorted(outputs)}")
    preview = mlspec.description.metadata.userDefined.get("com.apple.coreml.model.preview.type")
    _require(preview == "objectDetector", "Xcode preview type is not objectDetector")
    return {"vision_pipeline": " -> ".join(stages), "nms_labels": len(labels)}
