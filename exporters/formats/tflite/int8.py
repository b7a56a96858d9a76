"""Full-integer TFLite quantization, optionally keeping the box/score head in float.

Post-training int8 can collapse a detector (MobileNetV2 RetinaNet: 23.3 -> 0.04 COCO mAP):
the decoded boxes, the exp() of the box decoder and the concatenated class scores share
ranges badly with 256 levels. The usual fix short of QAT is to keep the head in float.

TF 2.19 has no public switch for that, so this module uses the mechanism of
``tf.lite.experimental.QuantizationDebugger`` without its debug instrumentation:

1. convert once with ``_experimental_calibrate_only``: a float model annotated with the
   activation ranges seen on the calibration images (the slow step, done once);
2. ``convert.mlir_quantize(calibrated, denylisted_nodes=...)`` quantizes it, leaving the
   denylisted ops in float; with an empty denylist this is exactly what the converter
   itself runs for full int8 (same function, same arguments).

The head is found on the TFLite graph, not by layer names: every op from the outputs back
to (and including) the last convolution of each branch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

# Ops that end a head walk: the prediction convolutions are kept in float, what feeds them
# (the backbone / FPN) stays int8.
_HEAD_STOP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


def calibrate(converter: Any, inputs: np.ndarray) -> bytes:
    """Float TFLite model annotated with the activation ranges seen on ``inputs``.

    Args:
        converter: A ``TFLiteConverter`` of the float graph (static input shape).
        inputs: ``[K, H, W, 3]`` calibration inputs of the graph's input dtype.
    """
    import tensorflow as tf

    def batches() -> Iterator[list[np.ndarray]]:
        for x in inputs:
            yield [x[None]]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = batches
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                           tf.lite.OpsSet.TFLITE_BUILTINS]
    converter._experimental_calibrate_only = True  # noqa: SLF001 - see module docstring
    return converter.convert()


def quantize(calibrated: bytes, int8_input: bool, float_head: bool,
             keep_float: Sequence[str] = ()) -> bytes:
    """int8 model from a calibrated one; float outputs, int8 or float input.

    The ops writing the tensors named in ``keep_float`` (and with ``float_head`` the head's)
    stay in float.
    """
    import tensorflow as tf
    from tensorflow.lite.python import convert

    denylist = [*keep_float, *(head_tensor_names(calibrated) if float_head else ())]
    return convert.mlir_quantize(
        calibrated, input_data_type=tf.int8 if int8_input else tf.float32,
        output_data_type=tf.float32, denylisted_nodes=denylist or None)


def _operators(model: Any) -> tuple[list[Any], list[str], dict[int, Any]]:
    from tensorflow.lite.tools import flatbuffer_utils

    graph = model.subgraphs[0]
    names = [t.name.decode() if isinstance(t.name, bytes) else t.name for t in graph.tensors]
    producer = {out: op for op in graph.operators for out in op.outputs}
    for op in graph.operators:
        op.kind = flatbuffer_utils.opcode_to_name(model, op.opcodeIndex)
    return graph.operators, names, producer


def head_tensor_names(tflite_model: bytes) -> list[str]:
    """Output tensor names of every op between the model outputs and the last convolutions."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite_model))
    _, names, producer = _operators(model)
    stack, seen, head = list(model.subgraphs[0].outputs), set(), []
    while stack:
        op = producer.get(stack.pop())
        if op is None or id(op) in seen:
            continue
        seen.add(id(op))
        head.extend(names[t] for t in op.outputs)
        if op.kind not in _HEAD_STOP_OPS:
            stack.extend(t for t in op.inputs if t >= 0)
    return head


def float_op_count(tflite_model: bytes) -> tuple[int, int]:
    """(ops computing in float, all ops) ignoring shape bookkeeping; shows what stayed float."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(tflite_model))
    ops, _, _ = _operators(model)
    tensors = model.subgraphs[0].tensors
    compute = [op for op in ops if op.kind not in ("SHAPE", "PACK", "STRIDED_SLICE", "RESHAPE",
                                                   "QUANTIZE", "DEQUANTIZE")]
    floats = [op for op in compute if tensors[op.outputs[0]].type == schema.TensorType.FLOAT32]
    return len(floats), len(compute)
