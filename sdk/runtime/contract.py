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


def check_outputs(source: str, spec: DetectorSpec, boxes_shape: Sequence[int],
                  scores_shape: Sequence[int]) -> None:
    """Raise unless boxes are [1, N, 4] and scores [1, N, C] with C = number of labels."""
    boxes_shape, scores_shape = [int(v) for v in boxes_shape], [int(v) for v in scores_shape]
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
    missing = [n for n in (spec.outputs.boxes, spec.outputs.scores) if n not in available]
    if missing:
        raise RuntimeLoadError(f"{source}: output(s) {missing} named in detector.json not "
                               f"found; the model has {sorted(available)}")
