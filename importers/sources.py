"""Source models read by ``sdk import``: a SavedModel folder or a TF.js graph model.

Both become a frozen TensorFlow function from the source's input tensor to the named output
tensors; the weights are constants, so the imported graph needs no variables.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from importers.config import ImportConfig
from importers.errors import ImportConfigError, ImportSourceError
from sdk.digests import file_sha256

Shape = tuple[int | None, ...]


@dataclass
class Source:
    """A loaded source model.

    Attributes:
        kind: ``savedmodel`` or ``tfjs``.
        path: What the user passed.
        files: Every file the model consists of (hashed for provenance).
        input_name: The input tensor (TF.js) or signature argument (SavedModel).
        input_shape: Its shape (``None`` for unknown dimensions).
        shapes: Tensor name -> shape, for every tensor a decoder may read.
        outputs: The declared output names (listed in error messages).
        function: ``function(names)`` -> a callable mapping the input tensor to a dict of
            those output tensors.
    """

    kind: str
    path: Path
    files: list[Path]
    input_name: str
    input_shape: Shape
    shapes: dict[str, Shape]
    outputs: list[str]
    function: Callable[[Sequence[str]], Callable[[Any], dict[str, Any]]]

    def shapes_of(self, names: Sequence[str]) -> dict[str, Shape]:
        """Shapes of the tensors ``names``.

        Raises:
            ImportSourceError: the source has no tensor of one of these names.
        """
        missing = [n for n in names if n not in self.shapes]
        if missing:
            raise ImportSourceError(f"{self.path}: no tensor {missing} (the config's decoder "
                                    f"names it; the source's outputs: {self.outputs})")
        return {n: self.shapes[n] for n in names}

    @functools.cached_property
    def digests(self) -> dict[str, str]:
        """sha256 of each file, by path relative to the model folder (hashed once: the
        config check and the provenance both read it)."""
        root = self.path if self.path.is_dir() else self.path.parent
        return {str(f.relative_to(root)): file_sha256(f) for f in sorted(self.files)}


def open_source(path: str | Path, config: ImportConfig) -> Source:
    """Load ``path``: a SavedModel folder, or a TF.js ``model.json`` (or its folder).

    Checks the files' sha256 against ``config.sha256`` first, when given.

    Raises:
        ImportSourceError: nothing loadable at ``path``, a digest mismatch, or an input
            that is not float32 of the configured size and layout.
    """
    path = Path(path)
    if not path.exists():
        raise ImportSourceError(f"{path}: no such file or folder")
    if path.is_dir() and (path / "saved_model.pb").is_file():
        source = _saved_model(path, config)
    else:
        model_json = path / "model.json" if path.is_dir() else path
        if not model_json.is_file() or model_json.suffix != ".json":
            raise ImportSourceError(f"{path}: not a SavedModel folder (saved_model.pb) nor a "
                                    f"TF.js graph model (model.json + weight shards)")
        source = _tfjs(model_json, config)
    _check_digests(source, config)
    _check_input(source, config)
    return source


def _check_digests(source: Source, config: ImportConfig) -> None:
    if not config.sha256:
        return
    digests = source.digests
    for name, expected in config.sha256.items():
        if name not in digests:
            raise ImportConfigError(str(config.path), f"source.sha256.{name}",
                                    f"names a file the source does not have "
                                    f"(its files: {sorted(digests)})")
        if digests[name] != expected:
            raise ImportSourceError(f"{source.path}: {name} has sha256 {digests[name]}, the "
                                    f"config {config.path} expects {expected} (another version "
                                    f"of the model?)")


def _check_input(source: Source, config: ImportConfig) -> None:
    h, w = config.input.size
    expected = (1, 3, h, w) if config.input.layout == "NCHW" else (1, h, w, 3)
    got = source.input_shape
    if len(got) != 4 or any(g is not None and g != e for g, e in zip(got, expected, strict=True)):
        raise ImportConfigError(str(config.path), "input.size/input.layout",
                                f"give input shape {list(expected)}, but the source's input "
                                f"{source.input_name!r} is {list(got)}")


def _shape(tensor_shape: Any) -> Shape:
    return tuple(tensor_shape.as_list()) if tensor_shape.rank is not None else ()


def _tfjs(model_json: Path, config: ImportConfig) -> Source:
    """A TF.js graph model: topology JSON -> GraphDef, weights from the shards.

    tensorflowjs stores int32 weights for int64 constants (JavaScript has no int64), so each
    weight is cast back to the dtype its node declares; otherwise the graph import fails
    (e.g. ``SparseToDense was passed int32 ... expected int64`` in onnx-tf conversions).
    """
    import tensorflow as tf
    from google.protobuf import json_format

    from exporters.formats.tfjs.format import import_converter

    import_converter()  # tensorflowjs' import-time side effects, worked around in one place
    from tensorflowjs import read_weights

    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
        topology, manifest = model["modelTopology"], model["weightsManifest"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImportSourceError(f"{model_json}: not a TF.js graph model "
                                f"(modelTopology + weightsManifest): {exc}") from exc
    folder = model_json.parent
    shards = [folder / p for group in manifest for p in group.get("paths", [])]
    absent = [str(p) for p in shards if not p.is_file()]
    if absent:
        raise ImportSourceError(f"{model_json}: weight shards missing: {absent}")
    try:
        graph_def = json_format.ParseDict(topology, tf.compat.v1.GraphDef(),
                                          ignore_unknown_fields=True)
        weights = {w["name"]: w["data"] for w in
                   read_weights.read_weights(manifest, str(folder), flatten=True)}
    except (json_format.ParseError, ValueError, KeyError) as exc:
        raise ImportSourceError(f"{model_json}: cannot read the graph or weights: {exc}") from exc
    for node in graph_def.node:
        if node.name in weights:
            declared = node.attr["dtype"].type
            dtype = tf.as_dtype(declared) if declared else tf.as_dtype(weights[node.name].dtype)
            node.attr["value"].tensor.CopyFrom(
                tf.make_tensor_proto(weights[node.name].astype(dtype.as_numpy_dtype)))
            node.attr["dtype"].type = dtype.as_datatype_enum
    try:
        wrapped = _wrap(graph_def)
        for rewrite in (_free_batch, _finite_pool_padding):
            rewritten = rewrite(graph_def, wrapped)
            if rewritten is not None:
                graph_def, wrapped = rewritten, _wrap(rewritten)
    except (ValueError, TypeError) as exc:
        raise ImportSourceError(f"{model_json}: TensorFlow cannot import the graph: {exc}") \
            from exc
    graph = wrapped.graph
    placeholders = [op for op in graph.get_operations() if op.type == "Placeholder"]
    input_name = config.input.tensor or (placeholders[0].outputs[0].name
                                         if len(placeholders) == 1 else "")
    try:
        input_tensor = graph.get_tensor_by_name(input_name)
    except (KeyError, ValueError) as exc:
        names = [op.outputs[0].name for op in placeholders]
        raise ImportConfigError(str(config.path), "input.tensor",
                                f"names {input_name!r}, not an input of {model_json} "
                                f"(its inputs: {names})") from exc
    if input_tensor.dtype != tf.float32:
        raise ImportSourceError(f"{model_json}: input {input_name!r} is "
                                f"{input_tensor.dtype.name}; only float32 inputs are imported")
    shapes = {out.name: _shape(out.shape) for op in graph.get_operations() for out in op.outputs}
    declared = sorted((model.get("signature") or {}).get("outputs") or {})

    def function(names: Sequence[str]) -> Callable[[Any], dict[str, Any]]:
        pruned = wrapped.prune(input_tensor, [graph.get_tensor_by_name(n) for n in names])
        return lambda x: dict(zip(names, pruned(x), strict=True))

    return Source("tfjs", model_json, [model_json, *shards], input_name,
                  _shape(input_tensor.shape), shapes, declared, function)


def _wrap(graph_def: Any) -> Any:
    import tensorflow as tf

    return tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""),
                                      [])


def _free_batch(graph_def: Any, wrapped: Any) -> Any | None:
    """A copy of ``graph_def`` taking any batch size, or None when it takes one already.

    Graphs converted from ONNX (onnx-tf, then tensorflowjs) fix the batch at 1: in the
    placeholder and in the target shapes of their ``Reshape`` ops (computed from constants).
    Those shapes are evaluated here; each one starting with 1 is replaced by a constant
    starting with -1, and the placeholder's batch becomes unknown. The exporters' parity
    gate and evaluation run the source on batches; :func:`importers.build.import_model`
    checks that a batch gives the same outputs as its images one by one.
    """
    import tensorflow as tf

    graph = wrapped.graph
    placeholders = [op for op in graph.get_operations() if op.type == "Placeholder"]
    shapes = [op.outputs[0].shape for op in placeholders]
    if not shapes or any(s.rank is None or s.rank == 0 or s[0] != 1 for s in shapes):
        return None
    reshapes = [op for op in graph.get_operations() if op.type == "Reshape"]
    try:
        targets = wrapped.prune([], [op.inputs[1] for op in reshapes])() if reshapes else []
    except (ValueError, TypeError, tf.errors.OpError):
        return None  # a target shape depends on the input: leave the graph as it is
    rewritten = tf.compat.v1.GraphDef()
    rewritten.CopyFrom(graph_def)
    nodes = {node.name: node for node in rewritten.node}
    for op, target in zip(reshapes, targets, strict=True):
        values = target.numpy()
        if values.ndim != 1 or len(values) == 0 or values[0] != 1:
            continue
        # The target may hold a -1 already (e.g. [1, C, -1]): use the op's resolved output
        # shape at batch 1, so the batch is the one free dimension.
        resolved = op.outputs[0].shape
        if not resolved.is_fully_defined():
            continue
        values = np.array([-1, *resolved.as_list()[1:]], values.dtype)
        const = rewritten.node.add(name=f"{op.name}/batch_free_shape", op="Const")
        const.attr["dtype"].type = tf.as_dtype(values.dtype).as_datatype_enum
        const.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(values))
        nodes[op.name].input[1] = const.name
    for op in placeholders:
        nodes[op.name].attr["shape"].shape.dim[0].size = -1
    return rewritten


def _finite_pool_padding(graph_def: Any, wrapped: Any) -> Any | None:
    """A copy of ``graph_def`` whose max-pool paddings are finite, or None when none is -inf.

    ONNX converters write a padded MaxPool as ``PadV2(x, pads, -inf)`` then a VALID MaxPool.
    int8 calibration then sees -inf in the padded tensor: its scale becomes ~1e37 and the
    next convolution's requantization scale is out of range (XNNPACK refuses the model:
    "failed to prepare"). Symmetric mirror padding gives the same pooled values: each pad
    copies an edge element that every window covering the pad also covers, as long as the
    pooling window is at least twice the padding (checked); the pooled result is exact.
    """
    import tensorflow as tf

    graph = wrapped.graph
    consumers: dict[str, list[Any]] = {}
    for op in graph.get_operations():
        for tensor in op.inputs:
            consumers.setdefault(tensor.op.name, []).append(op)

    def pools(op: Any) -> list[Any] | None:
        """The MaxPool ops ``op`` feeds through layout-only ops; None if it feeds anything else."""
        found = []
        for user in consumers.get(op.name, []):
            if user.type == "MaxPool":
                found.append(user)
            elif user.type in ("Transpose", "Identity") and (more := pools(user)) is not None:
                found.extend(more)
            else:
                return None
        return found

    candidates = [op for op in graph.get_operations() if op.type == "PadV2"]
    if not candidates:
        return None
    values = wrapped.prune([], [t for op in candidates for t in op.inputs[1:3]])()
    rewritten = tf.compat.v1.GraphDef()
    rewritten.CopyFrom(graph_def)
    nodes = {node.name: node for node in rewritten.node}
    changed = False
    for i, op in enumerate(candidates):
        pads, fill = values[2 * i].numpy(), values[2 * i + 1].numpy()
        users = pools(op)
        if not users or not np.all(fill <= np.finfo(np.float32).min):
            continue
        windows = [min(k for k in user.get_attr("ksize") if k > 1) for user in users]
        if 2 * int(pads.max()) > min(windows):
            continue
        node = nodes[op.name]
        node.op = "MirrorPad"
        del node.input[2]
        node.attr["mode"].s = b"SYMMETRIC"
        changed = True
    return rewritten if changed else None


def _saved_model(folder: Path, config: ImportConfig) -> Source:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    try:
        loaded = tf.saved_model.load(str(folder))
    except (OSError, ValueError) as exc:
        raise ImportSourceError(f"{folder}: cannot load the SavedModel ({exc})") from exc
    if config.signature not in loaded.signatures:
        raise ImportConfigError(str(config.path), "source.signature",
                                f"names {config.signature!r}, not a signature of {folder} "
                                f"(it has {sorted(loaded.signatures)})")
    signature = loaded.signatures[config.signature]
    inputs = signature.structured_input_signature[1]
    if config.input.tensor is None and len(inputs) != 1:
        raise ImportConfigError(str(config.path), "input.tensor",
                                f"is required: {folder} takes several inputs {sorted(inputs)}")
    input_name = config.input.tensor or next(iter(inputs))
    if input_name not in inputs:
        raise ImportConfigError(str(config.path), "input.tensor",
                                f"names {input_name!r}, not an input of {folder} "
                                f"(its inputs: {sorted(inputs)})")
    if len(inputs) != 1:
        raise ImportSourceError(f"{folder}: the signature takes {sorted(inputs)}; only "
                                f"single-input models are imported")
    if inputs[input_name].dtype != tf.float32:
        raise ImportSourceError(f"{folder}: input {input_name!r} is "
                                f"{inputs[input_name].dtype.name}; only float32 inputs are "
                                f"imported")
    structure = signature.structured_outputs
    if not isinstance(structure, dict):
        raise ImportSourceError(f"{folder}: signature {config.signature!r} returns no named "
                                f"outputs")
    shapes = {name: _shape(spec.shape) for name, spec in structure.items()}
    frozen = convert_variables_to_constants_v2(signature)

    def function(names: Sequence[str]) -> Callable[[Any], dict[str, Any]]:
        def run(x: Any) -> dict[str, Any]:
            outputs = tf.nest.pack_sequence_as(structure, frozen(x))
            return {name: outputs[name] for name in names}

        return run

    files = [p for p in folder.rglob("*") if p.is_file()]
    return Source("savedmodel", folder, files, input_name,
                  _shape(inputs[input_name].shape), shapes, sorted(shapes), function)
