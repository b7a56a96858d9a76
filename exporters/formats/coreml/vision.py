"""The Vision-ready CoreML pipeline: image in, Apple ``NonMaximumSuppression`` out.

Apple Vision returns ``VNRecognizedObjectObservation`` (and Xcode shows an object-detector
preview) only for a pipeline whose last model is a ``NonMaximumSuppression`` model with
class labels. The pipeline built here has four stages:

1. ``image`` (an image input, so Vision can feed a ``CVPixelBuffer``) -> ``images``: the
   normalization of detector.json as the image input's scale/bias (and a per-channel
   multiply when the std differs per channel), then NCHW -> NHWC;
2. the converted detector (``images`` -> ``boxes``, ``scores``), unchanged;
3. ``boxes`` (normalized xyxy) -> ``raw_coordinates`` (normalized cx, cy, w, h, the layout
   NMS expects), batch dimension dropped, **float32** (the NMS model rejects fp16);
4. ``NonMaximumSuppression`` with the labels and optional ``iouThreshold`` /
   ``confidenceThreshold`` inputs defaulting to detector.json's NMS values.

Stages 1 and 3 are tiny MIL programs, so the detector is converted only once.
"""

from __future__ import annotations

from typing import Any

from sdk.spec import DetectorSpec

DEPLOYMENT_TARGET = "iOS16"  # mlprogram pipelines with fp16 tensors need iOS 16 / macOS 13
IMAGE_INPUT = "image"
CONFIDENCE, COORDINATES = "confidence", "coordinates"  # the names Vision looks for
IOU_INPUT, CONFIDENCE_INPUT = "iouThreshold", "confidenceThreshold"  # optional NMS inputs


def _pre(ct: Any, spec: DetectorSpec) -> Any:
    import numpy as np
    from coremltools.converters.mil import Builder as mb

    h, w = spec.input.size
    mean, std = spec.input.mean, spec.input.std
    # CoreML image inputs take one scale for all channels: with per-channel std (e.g.
    # ImageNet statistics), the input divides by the first channel's std and the program
    # multiplies each channel by std[0] / std[c].
    per_channel = (np.float32(std[0]) / np.asarray(std, np.float32)).reshape(1, 3, 1, 1)

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 3, h, w))],
                opset_version=ct.target.iOS16)
    def prog(image):
        if len(set(std)) != 1:
            image = mb.mul(x=image, y=per_channel)
        return mb.transpose(x=image, perm=[0, 2, 3, 1], name=spec.input.name)

    image = ct.ImageType(name=IMAGE_INPUT, shape=(1, 3, h, w), scale=1.0 / std[0],
                         bias=[-m / std[0] for m in mean],
                         color_layout=getattr(ct.colorlayout, spec.input.channel_order))
    return _convert(ct, prog, [image], [spec.input.name])


def _post(ct: Any, spec: DetectorSpec) -> Any:
    from coremltools.converters.mil import Builder as mb

    n, c = spec.outputs.num_anchors, spec.num_classes
    specs = [mb.TensorSpec(shape=(1, n, 4)), mb.TensorSpec(shape=(1, n, c))]

    @mb.program(input_specs=specs, opset_version=ct.target.iOS16)
    def prog(boxes, scores):
        b = mb.squeeze(x=boxes, axes=[0])
        top_left = mb.slice_by_index(x=b, begin=[0, 0], end=[n, 2])
        bottom_right = mb.slice_by_index(x=b, begin=[0, 2], end=[n, 4])
        centre = mb.mul(x=mb.add(x=top_left, y=bottom_right), y=0.5)
        size = mb.sub(x=bottom_right, y=top_left)
        return (mb.concat(values=[centre, size], axis=1, name=f"raw_{COORDINATES}"),
                mb.squeeze(x=scores, axes=[0], name=f"raw_{CONFIDENCE}"))

    inputs = [ct.TensorType(name=spec.outputs.boxes, shape=(1, n, 4)),
              ct.TensorType(name=spec.outputs.scores, shape=(1, n, c))]
    return _convert(ct, prog, inputs, [f"raw_{COORDINATES}", f"raw_{CONFIDENCE}"])


def _convert(ct: Any, prog: Any, inputs: list, outputs: list[str]) -> Any:
    import numpy as np

    return ct.convert(prog, inputs=inputs, compute_precision=ct.precision.FLOAT32,
                      outputs=[ct.TensorType(name=o, dtype=np.float32) for o in outputs],
                      minimum_deployment_target=ct.target.iOS16)


def _nms(ct: Any, spec: DetectorSpec) -> Any:
    model = ct.proto.Model_pb2.Model()
    model.specificationVersion = 5  # iOS 13: first version with optional threshold inputs
    array = ct.proto.FeatureTypes_pb2.ArrayFeatureType
    n, c = spec.outputs.num_anchors, spec.num_classes
    for name, shape in ((f"raw_{CONFIDENCE}", (n, c)), (f"raw_{COORDINATES}", (n, 4))):
        feature = model.description.input.add(name=name)
        feature.type.multiArrayType.shape.extend(shape)
        feature.type.multiArrayType.dataType = array.FLOAT32
    for name, width in ((CONFIDENCE, c), (COORDINATES, 4)):
        out = model.description.output.add(name=name).type.multiArrayType
        out.dataType = array.FLOAT32
        out.shapeRange.sizeRanges.add(lowerBound=0, upperBound=-1)  # any number of boxes
        out.shapeRange.sizeRanges.add(lowerBound=width, upperBound=width)
    for name in (IOU_INPUT, CONFIDENCE_INPUT):
        feature = model.description.input.add(name=name)
        feature.type.doubleType.SetInParent()
        feature.type.isOptional = True
    nms = model.nonMaximumSuppression
    nms.confidenceInputFeatureName, nms.coordinatesInputFeatureName = (
        f"raw_{CONFIDENCE}", f"raw_{COORDINATES}")
    nms.confidenceOutputFeatureName, nms.coordinatesOutputFeatureName = CONFIDENCE, COORDINATES
    nms.iouThresholdInputFeatureName = IOU_INPUT
    nms.confidenceThresholdInputFeatureName = CONFIDENCE_INPUT
    nms.iouThreshold, nms.confidenceThreshold = spec.nms.iou_threshold, spec.nms.score_threshold
    nms.pickTop.perClass = not spec.nms.class_agnostic
    nms.stringClassLabels.vector.extend(spec.labels)
    return ct.models.MLModel(model)


def vision_pipeline(detector: Any, spec: DetectorSpec) -> Any:
    """Image -> detector -> xyxy-to-cxcywh -> NonMaximumSuppression, as one MLModel."""
    import coremltools as ct

    pipeline = ct.utils.make_pipeline(_pre(ct, spec), detector, _post(ct, spec),
                                      _nms(ct, spec))
    meta = pipeline.user_defined_metadata
    meta["com.apple.coreml.model.preview.type"] = "objectDetector"  # Xcode preview tab
    pipeline.short_description = f"{spec.provenance.get('architecture', 'detector')} object " \
                                 f"detector ({len(spec.labels)} classes) with NMS, for Vision"
    return pipeline
