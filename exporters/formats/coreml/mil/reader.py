"""Decode the values of a saved ML program: tensor types, immediate values, weight blobs.

Reads the protobuf that coremltools hands back (``MLModel.get_spec().mlProgram``) and the
``weights/*.bin`` blob files through coremltools' own ``BlobReader``
(``coremltools.libmilstoragepython``), the reader coremltools' milproto loader uses. Nothing
here interprets ops; :mod:`.program` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import MilError

# MIL DataType name -> (numpy dtype of the value, bits per element when packed below a byte).
_DTYPES: dict[str, tuple[Any, int]] = {
    "BOOL": (np.bool_, 0), "STRING": (np.str_, 0),
    "FLOAT16": (np.float16, 0), "FLOAT32": (np.float32, 0), "FLOAT64": (np.float64, 0),
    "INT8": (np.int8, 0), "INT16": (np.int16, 0), "INT32": (np.int32, 0), "INT64": (np.int64, 0),
    "UINT8": (np.uint8, 0), "UINT16": (np.uint16, 0), "UINT32": (np.uint32, 0),
    "UINT64": (np.uint64, 0),
    "INT4": (np.int8, 4), "UINT1": (np.uint8, 1), "UINT2": (np.uint8, 2), "UINT3": (np.uint8, 3),
    "UINT4": (np.uint8, 4), "UINT6": (np.uint8, 6),
}
# BlobReader method per MIL DataType name (sub-byte readers return one element per byte).
_BLOB_READERS = {
    "FLOAT16": "read_fp16_data", "FLOAT32": "read_float_data", "INT8": "read_int8_data",
    "UINT8": "read_uint8_data", "INT16": "read_int16_data", "UINT16": "read_uint16_data",
    "INT32": "read_int32_data", "UINT32": "read_uint32_data", "INT4": "read_int4_data",
    "UINT1": "read_uint1_data", "UINT2": "read_uint2_data", "UINT3": "read_uint3_data",
    "UINT4": "read_uint4_data", "UINT6": "read_uint6_data",
}


@dataclass(frozen=True)
class TensorType:
    """dtype and shape of a value; ``None`` for a dimension the program leaves unknown."""

    dtype: np.dtype
    shape: tuple[int | None, ...]
    type_name: str  # the MIL DataType name, e.g. FLOAT16

    @property
    def known_shape(self) -> bool:
        return all(d is not None for d in self.shape)

    def __str__(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        return f"{self.type_name.lower()}[{dims}]"


def dtype_name(code: int) -> str:
    """MIL DataType enum value -> its name (``FLOAT16``...)."""
    from coremltools.proto import MIL_pb2

    return MIL_pb2.DataType.Name(code)


def tensor_type(value_type: Any, where: str) -> TensorType:
    """A ``ValueType`` protobuf -> :class:`TensorType` (only tensors exist in our programs)."""
    kind = value_type.WhichOneof("type")
    if kind != "tensorType":
        raise MilError(f"{where}: {kind} values are not supported (only tensors)")
    tensor = value_type.tensorType
    name = dtype_name(tensor.dataType)
    if name not in _DTYPES:
        raise MilError(f"{where}: data type {name} is not supported")
    shape = tuple(d.constant.size if d.WhichOneof("dimension") == "constant" else None
                  for d in tensor.dimensions)
    return TensorType(np.dtype(_DTYPES[name][0]), shape, name)


class BlobFiles:
    """The weight blob files of one package, each opened once with coremltools' reader."""

    def __init__(self, weights_dir: Path | None):
        self.weights_dir = weights_dir
        self._readers: dict[str, Any] = {}

    def read(self, file_name: str, offset: int, ttype: TensorType, where: str) -> np.ndarray:
        """The array stored at ``offset`` of ``@model_path/weights/<file>``, shaped."""
        from coremltools.libmilstoragepython import _BlobStorageReader

        base = file_name.rsplit("/", 1)[-1]
        if self.weights_dir is None or not (self.weights_dir / base).is_file():
            raise MilError(f"{where}: weight file {file_name} not found in {self.weights_dir}")
        if base not in self._readers:
            self._readers[base] = _BlobStorageReader(str(self.weights_dir / base))
        method = _BLOB_READERS.get(ttype.type_name)
        if method is None:
            raise MilError(f"{where}: {ttype.type_name} weights in a blob file are not supported")
        raw = getattr(self._readers[base], method)(offset)
        if ttype.type_name == "FLOAT16":
            raw = raw.view(np.float16)  # the reader returns the fp16 bit patterns as uint16
        return _shaped(np.asarray(raw, ttype.dtype), ttype, where)


def decode_value(value: Any, blobs: BlobFiles, where: str) -> np.ndarray | str:
    """A ``Value`` protobuf (immediate or in a blob file) -> numpy array (``str`` for strings)."""
    ttype = tensor_type(value.type, where)
    kind = value.WhichOneof("value")
    if kind == "blobFileValue":
        return blobs.read(value.blobFileValue.fileName, value.blobFileValue.offset, ttype, where)
    if kind != "immediateValue" or value.immediateValue.WhichOneof("value") != "tensor":
        raise MilError(f"{where}: value of kind {kind} is not supported")
    tensor = value.immediateValue.tensor
    field = tensor.WhichOneof("value")
    if field == "strings":
        strings = list(tensor.strings.values)
        return strings[0] if not ttype.shape and len(strings) == 1 else np.array(strings)
    if field == "bytes":
        return _from_bytes(tensor.bytes.values, ttype, where)
    if field is None:  # an empty tensor
        return np.zeros([d or 0 for d in ttype.shape], ttype.dtype)
    values = getattr(tensor, field).values
    return _shaped(np.asarray(values).astype(ttype.dtype), ttype, where)


def _from_bytes(data: bytes, ttype: TensorType, where: str) -> np.ndarray:
    """Immediate values coremltools writes as raw bytes (fp16, 8-bit, uint32, sub-byte)."""
    storage, bits = _DTYPES[ttype.type_name]
    if not bits:
        return _shaped(np.frombuffer(data, storage).copy(), ttype, where)
    count = int(np.prod([d or 0 for d in ttype.shape]))
    return _shaped(unpack_bits(np.frombuffer(data, np.uint8), bits, count,
                               signed=ttype.type_name == "INT4"), ttype, where)


def unpack_bits(packed: np.ndarray, bits: int, count: int, signed: bool = False) -> np.ndarray:
    """``count`` ``bits``-bit integers packed least significant bit first into bytes."""
    flat = np.unpackbits(np.asarray(packed, np.uint8), bitorder="little")
    if flat.size < bits * count:
        raise MilError(f"{packed.size} bytes hold fewer than {count} {bits}-bit values")
    groups = flat[:bits * count].reshape(count, bits).astype(np.int16)
    values = groups @ (1 << np.arange(bits, dtype=np.int16))
    if signed:
        values = np.where(values >= 1 << (bits - 1), values - (1 << bits), values)
        return values.astype(np.int8)
    return values.astype(np.uint8)


def _shaped(array: np.ndarray, ttype: TensorType, where: str) -> np.ndarray:
    if not ttype.known_shape:
        return array
    shape = tuple(int(d) for d in ttype.shape)  # type: ignore[arg-type]
    if array.size != int(np.prod(shape)):
        raise MilError(f"{where}: {array.size} values stored for a {ttype} tensor")
    return array.reshape(shape)
