"""``detector.json`` inside a ``.tflite`` file, stored two standard ways.

1. A named FlatBuffer metadata entry: TFLite models carry a ``metadata`` list of
   ``(name, buffer)`` pairs (the converter already writes ``min_runtime_version`` there);
   we add :data:`METADATA_NAME` whose buffer holds the UTF-8 JSON. Any reader of the TFLite
   schema (Python, Java, Swift) finds it.
2. An associated file: a zip archive holding ``detector.json`` appended after the
   FlatBuffer, the layout ``tflite_support`` uses for associated files. The interpreter
   ignores trailing bytes; the stdlib zip reader finds it without the TFLite schema (this
   is what ``sdk.runtime.locate.embedded_spec`` reads, with no TensorFlow installed).

``tflite_support``'s metadata writer itself is not used: it does not install with numpy 2.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

METADATA_NAME = "detector.json"


def _read(path: Path) -> Any:
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.read_model_from_bytearray(bytearray(path.read_bytes()))


def _name(entry: Any) -> str:
    name = entry.name
    return name.decode() if isinstance(name, bytes) else str(name)


def embed_json(path: Path, text: str) -> None:
    """Store ``text`` under :data:`METADATA_NAME`, replacing a previous entry."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = _read(path)
    model.metadata = [m for m in (model.metadata or []) if _name(m) != METADATA_NAME]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(text.encode("utf-8"), np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA_NAME, text)
    # Re-packing drops any previously appended archive: there is only ever one.
    data = flatbuffer_utils.convert_object_to_bytearray(model, extra_buffer=archive.getvalue())
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON of the metadata entry :data:`METADATA_NAME`, or None when absent."""
    model = _read(path)
    for entry in model.metadata or []:
        if _name(entry) == METADATA_NAME:
            return json.loads(bytes(np.asarray(model.buffers[entry.buffer].data, np.uint8)))
    return None


def read_associated_json(path: Path) -> dict[str, Any] | None:
    """The JSON of the appended associated file :data:`METADATA_NAME`, or None."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as zf:
        if METADATA_NAME not in zf.namelist():
            return None
        return json.loads(zf.read(METADATA_NAME))


def input_quantization(path: Path) -> tuple[str, float | None, int | None]:
    """(dtype, scale, zero point) of the model's single input tensor."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = _read(path)
    graph = model.subgraphs[0]
    tensor = graph.tensors[graph.inputs[0]]
    names = {schema.TensorType.FLOAT32: "float32", schema.TensorType.INT8: "int8",
             schema.TensorType.UINT8: "uint8"}
    dtype = names.get(tensor.type, f"tensor type {tensor.type}")
    q = tensor.quantization
    if dtype == "float32" or q is None or q.scale is None or not len(q.scale):
        return dtype, None, None
    return dtype, float(q.scale[0]), int(q.zeroPoint[0])
