"""SavedModel -> ONNX with tf2onnx (static input, outputs named as detector.json says), and
the fp16 variant.

tf2onnx is the converter ONNX users pick for TensorFlow models. It converts the staged
SavedModel's serving function with a static ``[1, H, W, 3]`` input
(:func:`exporters.formats.static_graph.serving_function`); the outputs keep their
signature names, ``boxes`` and ``scores``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from exporters.errors import ConversionError
from exporters.formats.static_graph import serving_function
from sdk.spec import DetectorSpec

OPSET = 17  # run by onnxruntime >= 1.12 and onnxruntime-web; tf2onnx 1.17 defaults to 15
# Ops whose outputs end a head walk: the prediction convolutions (see head_nodes).
_HEAD_STOP_OPS = frozenset({"Conv", "ConvInteger", "MatMul", "Gemm"})


@contextlib.contextmanager
def _quiet_tf2onnx() -> Iterator[None]:
    """tf2onnx logs every optimizer pass at INFO; keep warnings and errors."""
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def to_onnx(saved_model: Path, spec: DetectorSpec, uint8_input: bool) -> Any:
    """The ``onnx.ModelProto`` of ``saved_model``'s serving function (static input).

    Raises:
        ConversionError: the converted graph's outputs are not the spec's names.
    """
    import tf2onnx

    function, keep = serving_function(saved_model, spec.input, uint8_input)
    with _quiet_tf2onnx():
        model, _ = tf2onnx.convert.from_function(
            function, input_signature=function.input_signature, opset=OPSET)
    del keep  # the loaded SavedModel had to outlive the conversion
    outputs = sorted(o.name for o in model.graph.output)
    wanted = sorted(spec.outputs.tensor_names)
    if outputs != wanted:
        raise ConversionError(f"onnx conversion gave outputs {outputs}, detector.json names "
                              f"{wanted}")
    return model


def head_nodes(model: Any, include_convolutions: bool) -> list[str]:
    """Names of the nodes between the graph outputs and the last convolutions.

    That is the box decoder and the score activation (concatenations, reshapes, ``Exp``,
    softmax/sigmoid), plus the prediction convolutions when ``include_convolutions``.
    """
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    stack, seen, head = [o.name for o in graph.output], set(), []
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stop = node.op_type in _HEAD_STOP_OPS
        if include_convolutions or not stop:
            head.append(node.name)
        if not stop:
            stack.extend(name for name in node.input if name)
    return head


def to_fp16(model: Any) -> Any:
    """fp16 weights and compute; input, outputs and the head after the last convolutions
    stay float32.

    The head stays float32 because the box decoder's ``exp`` overflows fp16 (65504) for
    anchors far from any object, and an ``inf`` box turns into NaN downstream; it is a few
    cheap elementwise ops.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    fp32 = onnx.ModelProto()
    fp32.CopyFrom(model)  # the converter edits its argument; the fp32 model is shared
    return convert_float_to_float16(fp32, keep_io_types=True,
                                    node_block_list=head_nodes(model, False))
