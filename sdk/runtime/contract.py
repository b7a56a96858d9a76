"""Load-time checks of a model's tensors against its ``detector.json``.

Converters rename and reorder outputs between versions (docs/DESIGN.md section 5, pitfall
3), so every engine reads the outputs by the names in the spec and fails here, at load, with
a message naming the file, the tensor and both shapes, instead of returning wrong boxes later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sdk.spec import DetectorSpec


class RuntimeLoadError(RuntimeError):
    """The model file is missing, corrupt, or does not match its ``detector.json``."""


def check_input(source: str, spec: DetectorSpec, shape: Sequence[int], dtype: np.dtype,
                quantization: tuple[float, int] | None = None) -> None:
    """Raise unless the model input is [1, H, W, 3] of the spec's size, dtype and quantization."""
    h, w = spec.input.size
    if [int(v) for v in shape] != [1, h, w, 3]:
        raise RuntimeLoadError(f"{source}: input shape {list(shape)} does not match "
                               f"detector.json input.size [{h}, {w}] (expected [1, {h}, {w}, 3])")
    if np.dtype(dtype) != np.dtype(spec.input.dtype):
        raise RuntimeLoadError(f"{source}: input dtype {np.dtype(dtype)} but detector.json "
                               f"input.dtype is {spec.input.dtype}")
    if spec.input.dtype == "float32" or quantization is None or not quantization[0]:
        return
    scale, zero_point = quantization
    if not (np.isclose(scale, spec.input.quant_scale, rtol=1e-5)
            and int(zero_point) == spec.input.quant_zero_point):
        raise RuntimeLoadError(
            f"{source}: input quantization (scale {scale}, zero point {zero_point}) differs "
            f"from detector.json (scale {spec.input.quant_scale}, zero point "
            f"{spec.input.quant_zero_point}): images would be quantized wrongly")


def check_outputs(source: str, spec: DetectorSpec, *shapes: Sequence[int]) -> None:
    """Raise unless the output shapes (in the order of ``spec.outputs.tensor_names``) are
    what ``spec.outputs.kind`` expects.

    canonical: boxes [1, N, 4] and scores [1, N, C] with C = number of labels; detections:
    locations [1, N, 4], classes and scores [1, N], num_detections [1]; yolo: [1, 4+C, N]
    or [1, N, 4+C] as ``outputs.layout`` says. ``-1`` (dynamic) dims pass.
    """
    dims = [[int(v) for v in shape] for shape in shapes]
    names = spec.outputs.tensor_names
    if len(dims) != len(names):
        raise RuntimeLoadError(f"{source}: {len(dims)} outputs given, outputs.kind "
                               f"{spec.outputs.kind!r} reads {len(names)} {list(names)}")
    c = spec.num_classes
    kind = spec.outputs.kind
    if kind == "canonical":
        _check_canonical(source, spec, dims[0], dims[1])
        return
    layout = spec.outputs.layout
    if kind == "detections":
        n = dims[0][1] if len(dims[0]) == 3 else -1
        expected, extra = [[1, -1, 4], [1, n], [1, n], [1]], ""
    else:
        first = layout == "features_first"
        expected = [[1, 4 + c, -1]] if first else [[1, -1, 4 + c]]
        extra = (f" ({'[1, 4+C, N]' if first else '[1, N, 4+C]'} with C = {c} labels, "
                 f"outputs.layout {layout!r})")
    for name, got, want in zip(names, dims, expected, strict=True):
        if len(got) != len(want) or any(w not in (-1, g) and g != -1
                                         for g, w in zip(got, want, strict=True)):
            shown = ", ".join("N" if w == -1 else str(w) for w in want)
            raise RuntimeLoadError(f"{source}: output '{name}' has shape {got}, detector.json "
                                   f"(outputs.kind {kind!r}) expects [{shown}]{extra}")
    if kind == "yolo" and spec.outputs.num_anchors:
        n = dims[0][2] if layout == "features_first" else dims[0][1]
        if n not in (-1, spec.outputs.num_anchors):
            raise RuntimeLoadError(f"{source}: the model has {n} boxes, detector.json "
                                   f"outputs.num_anchors says {spec.outputs.num_anchors}")


def _check_canonical(source: str, spec: DetectorSpec, boxes_shape: list[int],
                     scores_shape: list[int]) -> None:
    names = spec.outputs
    if len(boxes_shape) != 3 or boxes_shape[0] != 1 or boxes_shape[2] != 4:
        raise RuntimeLoadError(f"{source}: output '{names.boxes}' has shape {boxes_shape}, "
                               f"detector.json expects [1, N, 4]")
    n = boxes_shape[1]
    if scores_shape != [1, n, spec.num_classes]:
        raise RuntimeLoadError(f"{source}: output '{names.scores}' has shape {scores_shape}, "
                               f"detector.json expects [1, {n}, {spec.num_classes}] "
                               f"({spec.num_classes} labels)")
    if names.num_anchors and names.num_anchors != n:
        raise RuntimeLoadError(f"{source}: the model has {n} anchors, detector.json "
                               f"outputs.num_anchors says {names.num_anchors}")


def missing_outputs(source: str, spec: DetectorSpec, available: Sequence[str]) -> None:
    """Raise if an output named in the spec is not among the model's ``available`` names."""
    missing = [n for n in spec.outputs.tensor_names if n not in available]
    if missing:
        raise RuntimeLoadError(f"{source}: output(s) {missing} named in detector.json not "
                               f"found; the model has {sorted(available)}")
