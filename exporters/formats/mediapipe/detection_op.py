"""The model ending in ``TFLite_Detection_PostProcess``, and the check that it really does.

The TFLite converter fuses a ``tf.function`` annotated with ``experimental_implements`` into
the custom op (the mechanism of the TF Object Detection API's TFLite export): the function
body is a placeholder, its NameAttrList text becomes the op's flexbuffer options.

The op decodes box encodings against anchors itself (``yc = ty / y_scale * ha + ya``,
``h = exp(th / h_scale) * ha``, ...). Our models already decode their boxes, so the
encodings are the decoded boxes in centre-size form, ``[yc, xc, log h, log w]``, against
"identity anchors" ``(0, 0, 1, 1)`` with every scale 1.0: the op reproduces the boxes and
no anchor re-encoding of the model is needed.

Two converter traps are checked after conversion (:func:`check_op`):

* a required attribute missing from the annotation makes the conversion "succeed" without
  fusing anything (four constant outputs);
* an attribute left out takes the op's default, and ``max_detections`` defaults to 10.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from exporters.errors import ExportError
from exporters.formats.static_graph import serving_function
from sdk.spec import DetectorSpec

OP_NAME = "TFLite_Detection_PostProcess"
# The op's outputs in the order its kernel writes them, and the names our detector.json
# gives them (the model's output tensors come out in another order: see output_names).
OP_OUTPUTS = ("locations", "classes", "scores", "num_detections")
# Name scope of the encoding tail; int8 keeps it in float (log h quantizes poorly).
TAIL_SCOPE = "identity_anchor_encoding"
MIN_SIDE = 1e-6  # log() of a degenerate box side


@dataclass(frozen=True)
class OpOptions:
    """The flexbuffer options of the op (attribute name -> value)."""

    max_detections: int
    num_classes: int
    nms_score_threshold: float
    nms_iou_threshold: float
    # Per-class NMS, as detector.json's class_agnostic false does; the fast variant (false)
    # keeps one class per box and runs a single NMS over all of them.
    use_regular_nms: bool = True
    max_classes_per_detection: int = 1
    y_scale: float = 1.0
    x_scale: float = 1.0
    h_scale: float = 1.0
    w_scale: float = 1.0

    @classmethod
    def from_spec(cls, spec: DetectorSpec) -> OpOptions:
        """The op options ``detector.json``'s ``nms`` section asks for."""
        nms = spec.nms
        return cls(max_detections=nms.max_detections, num_classes=spec.num_classes,
                   nms_score_threshold=nms.score_threshold,
                   nms_iou_threshold=nms.iou_threshold,
                   use_regular_nms=not nms.class_agnostic)

    def implements(self) -> str:
        """The ``experimental_implements`` text: a NameAttrList naming the op and its attrs."""
        attrs = []
        for key, value in asdict(self).items():
            if isinstance(value, bool):
                attrs.append(f'attr {{ key: "{key}" value {{ b: {str(value).lower()} }} }}')
            elif isinstance(value, int):
                attrs.append(f'attr {{ key: "{key}" value {{ i: {value} }} }}')
            else:
                attrs.append(f'attr {{ key: "{key}" value {{ f: {value!r} }} }}')
        return " ".join([f'name: "{OP_NAME}"', *attrs])


def detection_function(saved_model: Path, spec: DetectorSpec, options: OpOptions,
                       uint8_input: bool = False) -> tuple[Any, Any]:
    """``(tf.function, tf.Module)``: ``[1, H, W, 3]`` float input (``uint8_input``: pixels,
    normalized in the graph) -> the op's four outputs, named by :data:`OP_OUTPUTS`; give both
    to ``TFLiteConverter.from_concrete_functions``.

    The canonical model (``boxes`` xyxy normalized, ``scores`` activated) comes from
    :func:`~exporters.formats.static_graph.serving_function`; its boxes are re-expressed as
    identity-anchor encodings and fed to the op with the scores.
    """
    import tensorflow as tf

    serve, keep = serving_function(saved_model, spec.input, uint8_input)
    h, w = spec.input.size
    num_anchors_hint = spec.outputs.num_anchors or None
    boxes_name, scores_name = spec.outputs.boxes, spec.outputs.scores

    @tf.function(experimental_implements=options.implements())
    def detection_postprocess(box_encodings: Any, class_predictions: Any, anchors: Any) -> Any:
        # Placeholder body: the converter replaces the call with the custom op.
        zero = tf.constant(0.0)
        return zero, zero, zero, zero

    dtype = tf.uint8 if uint8_input else tf.float32

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, 3], dtype, name=spec.input.name)])
    def detect(images: Any) -> dict[str, Any]:
        out = serve(images)
        boxes, scores = out[boxes_name], out[scores_name]
        with tf.name_scope(TAIL_SCOPE):
            # One slice per coordinate, not tf.unstack: the quantizer's denylist misses the
            # outputs of a multi-output op (UNPACK), which would quantize the boxes to int8.
            x1, y1, x2, y2 = (boxes[..., i] for i in range(4))
            size_h = tf.maximum(y2 - y1, MIN_SIDE)
            size_w = tf.maximum(x2 - x1, MIN_SIDE)
            encodings = tf.stack([(y1 + y2) * 0.5, (x1 + x2) * 0.5, tf.math.log(size_h),
                                  tf.math.log(size_w)], axis=-1)
            n = num_anchors_hint or tf.shape(boxes)[1]
            anchors = tf.tile(tf.constant([[0.0, 0.0, 1.0, 1.0]]), [n, 1])
        # Reversed as the OD API's export does: the converter then gives output i of the
        # placeholder to the op's output i. The names are checked against the op's real
        # outputs after conversion (output_names), which detector.json then uses.
        found = detection_postprocess(encodings, scores, anchors)[::-1]
        return dict(zip(reversed(OP_OUTPUTS), found, strict=True))

    # The converter fuses the annotated function only when it is reachable from the
    # trackable it is given (as in the OD API's SSDModule); the source must stay alive too.
    module = tf.Module()
    module.source, module.detect = keep, detect
    return detect, module


def _graph(data: bytes) -> tuple[Any, Any]:
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    return model, model.subgraphs[0]


def _custom_ops(model: Any, graph: Any) -> list[Any]:
    codes = model.operatorCodes
    found = []
    for op in graph.operators:
        code = codes[op.opcodeIndex].customCode
        if code is not None and (code.decode() if isinstance(code, bytes) else code) == OP_NAME:
            found.append(op)
    return found


def op_options(data: bytes) -> dict[str, Any] | None:
    """The flexbuffer options of the model's ``TFLite_Detection_PostProcess`` (None: no op)."""
    from flatbuffers import flexbuffers

    model, graph = _graph(data)
    ops = _custom_ops(model, graph)
    if not ops:
        return None
    return flexbuffers.Loads(bytes(bytearray(ops[0].customOptions)))


def check_op(data: bytes, options: OpOptions) -> dict[str, Any]:
    """Raise ExportError unless the op is in the model with exactly ``options``.

    Returns the options found (for the export's checks).
    """
    found = op_options(data)
    if found is None:
        raise ExportError(
            f"mediapipe: the converter did not fuse {OP_NAME} (the model has no such op): "
            f"an attribute of the experimental_implements annotation is missing or "
            f"malformed; expected attributes: {', '.join(asdict(options))}")
    for key, want in asdict(options).items():
        if key not in found:
            raise ExportError(f"mediapipe: {OP_NAME} lacks attribute {key!r} after "
                              f"conversion (its kernel default would apply)")
        got = found[key]
        same = (abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
                if isinstance(want, float) else int(got) == int(want))
        if not same:
            raise ExportError(f"mediapipe: {OP_NAME} attribute {key!r} is {got!r} after "
                              f"conversion, detector.json asks for {want!r}")
    return found


def output_names(data: bytes) -> dict[str, str]:
    """Our output role (:data:`OP_OUTPUTS`) -> the model's signature output name.

    The op writes locations, classes, scores, num_detections; the model's outputs do not
    come out in that order, so they are matched by tensor, not by position.
    """
    model, graph = _graph(data)
    (op,) = _custom_ops(model, graph)
    role_of_tensor = {tensor: role for role, tensor in zip(OP_OUTPUTS, op.outputs, strict=True)}
    sig = model.signatureDefs[0]
    names = {}
    for out in sig.outputs:
        name = out.name.decode() if isinstance(out.name, bytes) else out.name
        if out.tensorIndex in role_of_tensor:
            names[role_of_tensor[out.tensorIndex]] = name
    missing = [r for r in OP_OUTPUTS if r not in names]
    if missing:
        raise ExportError(f"mediapipe: model outputs {missing} are not outputs of {OP_NAME}")
    return names


def tail_tensor_names(data: bytes) -> list[str]:
    """Output tensor names of the ops of the encoding tail (kept float in int8)."""
    _, graph = _graph(data)
    names = [t.name.decode() if isinstance(t.name, bytes) else t.name for t in graph.tensors]
    tail = [names[t] for op in graph.operators for t in op.outputs if TAIL_SCOPE in names[t]]
    if not tail:
        raise ExportError(f"mediapipe: no tensor of the encoding tail ({TAIL_SCOPE}) found in "
                          f"the converted model; int8 would quantize log(box size)")
    return tail
