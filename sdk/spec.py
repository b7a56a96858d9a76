"""The one metadata contract: ``detector.json``.

Every exported model carries a ``detector.json`` beside it. Every runtime (Python, browser,
iOS) reads only this file: nothing about labels, sizes, normalization or output order is
hard-coded anywhere else.

Conventions written down once:

* ``boxes`` are ``[1, N, 4]`` float, **normalized xyxy** (x1, y1, x2, y2 in ``[0, 1]``)
  relative to the model input frame (i.e. the letterboxed image), not clipped.
* ``scores`` are ``[1, N, C]`` float, already activated (sigmoid or softmax without the
  background column), one column per label.
* Those two are ``outputs.kind = "canonical"`` (the default). Detectors trained elsewhere
  declare another kind instead: ``"detections"`` (the four post-NMS outputs of
  ``TFLite_Detection_PostProcess``: locations ``[1, N, 4]`` normalized ymin, xmin, ymax,
  xmax; classes ``[1, N]``; scores ``[1, N]``; num_detections ``[1]``) or ``"yolo"`` (one
  Ultralytics-style output ``[1, 4+C, N]`` or ``[1, N, 4+C]``: cx, cy, w, h then C
  activated class scores). :mod:`sdk.output_kinds` turns each into detections.
* Input pixels are RGB, NHWC. The model sees ``(pixel - mean) / std`` with pixel in 0..255,
  unless ``input.dtype`` is an integer type, in which case the runtime additionally
  quantizes with ``round(x / scale + zero_point)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SPEC_FILENAME = "detector.json"

_RESIZE_MODES = ("letterbox", "stretch")
_INPUT_DTYPES = ("float32", "uint8", "int8")
_BOX_LAYOUTS = ("xyxy",)
OUTPUT_KINDS = ("canonical", "detections", "yolo")
YOLO_LAYOUTS = ("features_first", "anchors_first")  # [1, 4+C, N] | [1, N, 4+C]
YOLO_BOX_UNITS = ("pixels", "normalized")
# The output names each kind reads, in the order engines return them.
_KIND_TENSORS = {"canonical": ("boxes", "scores"),
                 "detections": ("locations", "classes", "scores", "num_detections"),
                 "yolo": ("predictions",)}
# Fields that only some kinds use: left out of detector.json for the others, so canonical
# files stay exactly as they were before kinds existed.
_KIND_FIELDS = {"canonical": ("boxes", "scores", "order", "box_layout", "num_anchors"),
                "detections": ("kind", "locations", "classes", "scores", "num_detections",
                               "label_offset"),
                "yolo": ("kind", "predictions", "layout", "box_units", "num_anchors")}


class SpecError(ValueError):
    """A ``detector.json`` is missing, malformed or inconsistent.

    The message names the file and the field.
    """


@dataclass(frozen=True)
class InputSpec:
    """How an image becomes the model's input tensor."""

    size: tuple[int, int]  # (height, width)
    resize: str = "letterbox"
    pad_value: int = 114
    channel_order: str = "RGB"
    layout: str = "NHWC"
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)
    std: tuple[float, float, float] = (127.5, 127.5, 127.5)
    dtype: str = "float32"
    quant_scale: float | None = None  # only for integer dtypes
    quant_zero_point: int | None = None
    name: str = "images"


@dataclass(frozen=True)
class OutputSpec:
    """Which output form the model has (``kind``) and the names of its output tensors.

    ``canonical``: ``boxes`` + ``scores``. ``detections``: ``locations``, ``classes``,
    ``scores``, ``num_detections``; class id ``label_offset`` is ``labels[0]``. ``yolo``:
    ``predictions`` in ``layout`` with boxes in ``box_units`` of the model input.
    """

    boxes: str = "boxes"
    scores: str = "scores"
    order: tuple[str, ...] = ("boxes", "scores")
    box_layout: str = "xyxy"
    num_anchors: int = 0
    kind: str = "canonical"
    locations: str = ""
    classes: str = ""
    num_detections: str = ""
    label_offset: int = 0
    predictions: str = ""
    layout: str = "features_first"
    box_units: str = ""

    @property
    def tensor_names(self) -> tuple[str, ...]:
        """The output tensors this kind reads, in the order engines return them."""
        return tuple(getattr(self, f) for f in _KIND_TENSORS[self.kind])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: only the fields of this kind."""
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items() if k in _KIND_FIELDS[self.kind]}


@dataclass(frozen=True)
class NmsSpec:
    """Post-processing defaults; callers may override per call."""

    iou_threshold: float = 0.5
    score_threshold: float = 0.3
    max_detections: int = 100
    class_agnostic: bool = False
    pre_nms_top_k: int = 1000


@dataclass(frozen=True)
class DetectorSpec:
    """The full ``detector.json`` contract (see module docstring for conventions)."""

    input: InputSpec
    labels: tuple[str, ...]
    outputs: OutputSpec = field(default_factory=OutputSpec)
    nms: NmsSpec = field(default_factory=NmsSpec)
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def with_provenance(self, **updates: Any) -> DetectorSpec:
        """Return a copy whose provenance is updated with ``updates``."""
        return replace(self, provenance={**self.provenance, **updates})

    def with_metrics(self, **updates: Any) -> DetectorSpec:
        """Return a copy whose measured metrics are updated with ``updates``."""
        return replace(self, metrics={**self.metrics, **updates})

    def with_input(self, **updates: Any) -> DetectorSpec:
        """Return a copy whose input spec is updated with ``updates``."""
        return replace(self, input=replace(self.input, **updates))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        data = json.loads(json.dumps(asdict(self)))
        data["outputs"] = self.outputs.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write atomically to ``path`` (a file, or a folder that gets ``detector.json``)."""
        path = Path(path)
        if path.is_dir():
            path = path / SPEC_FILENAME
        from sdk.atomic import write_text_atomic

        write_text_atomic(path, self.to_json())
        return path

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> DetectorSpec:
        """Validate and build a spec; errors name ``source`` and the field."""
        return _parse_spec(data, source)

    @classmethod
    def load(cls, path: str | Path) -> DetectorSpec:
        """Read and validate a ``detector.json`` (a file or the folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / SPEC_FILENAME
        if not path.is_file():
            raise SpecError(f"{path}: file not found (every export has a {SPEC_FILENAME})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SpecError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
        return _parse_spec(data, str(path))


def _require(data: dict[str, Any], key: str, source: str, where: str) -> Any:
    if key not in data:
        raise SpecError(f"{source}: missing field '{where}{key}'")
    return data[key]


def _check(cond: bool, source: str, field_name: str, msg: str) -> None:
    if not cond:
        raise SpecError(f"{source}: field '{field_name}' {msg}")


def _parse_input(raw: Any, source: str) -> InputSpec:
    _check(isinstance(raw, dict), source, "input", "must be an object")
    size = _require(raw, "size", source, "input.")
    _check(
        isinstance(size, list | tuple) and len(size) == 2
        and all(isinstance(v, int) and v > 0 for v in size),
        source, "input.size", f"must be [height, width] positive integers, got {size!r}",
    )
    known = {f for f in InputSpec.__dataclass_fields__}
    unknown = set(raw) - known
    _check(not unknown, source, "input", f"has unknown keys {sorted(unknown)}")
    spec = InputSpec(**{**raw, "size": tuple(size),
                        "mean": tuple(raw.get("mean", InputSpec.mean)),
                        "std": tuple(raw.get("std", InputSpec.std))})
    _check(spec.resize in _RESIZE_MODES, source, "input.resize", f"must be one of {_RESIZE_MODES}")
    _check(spec.dtype in _INPUT_DTYPES, source, "input.dtype", f"must be one of {_INPUT_DTYPES}")
    _check(len(spec.mean) == 3 and len(spec.std) == 3, source, "input.mean/std", "need 3 values")
    _check(all(s > 0 for s in spec.std), source, "input.std", "must be positive")
    _check(spec.layout == "NHWC", source, "input.layout", "must be NHWC")
    _check(spec.channel_order in ("RGB", "BGR"), source, "input.channel_order", "must be RGB|BGR")
    if spec.dtype != "float32":
        _check(
            isinstance(spec.quant_scale, int | float) and spec.quant_scale > 0
            and math.isfinite(spec.quant_scale) and isinstance(spec.quant_zero_point, int),
            source, "input.quant_scale/quant_zero_point",
            f"are required for dtype {spec.dtype}",
        )
    return spec


def _parse_outputs(raw: Any, source: str) -> OutputSpec:
    _check(isinstance(raw, dict), source, "outputs", "must be an object")
    kind = raw.get("kind", "canonical")
    _check(kind in OUTPUT_KINDS, source, "outputs.kind",
           f"must be one of {OUTPUT_KINDS}, got {kind!r}")
    unknown = set(raw) - set(_KIND_FIELDS[kind]) - {"kind"}
    _check(not unknown, source, "outputs",
           f"has keys {sorted(unknown)} that kind {kind!r} does not use "
           f"(it reads {sorted(_KIND_FIELDS[kind])})")
    if kind != "canonical":  # names of models from elsewhere are never guessed
        for name in _KIND_TENSORS[kind]:
            _check(name in raw, source, f"outputs.{name}",
                   f"is required when outputs.kind is {kind!r} (the output tensor's name)")
    for name in _KIND_TENSORS[kind]:
        value = raw.get(name, getattr(OutputSpec, name))  # the class holds the defaults
        _check(isinstance(value, str) and bool(value), source, f"outputs.{name}",
               "must be a non-empty tensor name")
    for name in ("num_anchors", "label_offset"):
        value = raw.get(name, 0)
        _check(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
               source, f"outputs.{name}", f"must be a non-negative integer, got {value!r}")
    if kind == "yolo":
        _check(raw.get("layout", "features_first") in YOLO_LAYOUTS, source, "outputs.layout",
               f"must be one of {YOLO_LAYOUTS} ([1, 4+C, N] or [1, N, 4+C])")
        _check(raw.get("box_units") in YOLO_BOX_UNITS, source, "outputs.box_units",
               f"is required when outputs.kind is 'yolo': one of {YOLO_BOX_UNITS} "
               f"(cx, cy, w, h in input pixels or in [0, 1])")
    outputs = OutputSpec(**{**raw, "kind": kind,
                            "order": tuple(raw.get("order", ("boxes", "scores")))})
    _check(outputs.box_layout in _BOX_LAYOUTS, source, "outputs.box_layout",
           f"must be {_BOX_LAYOUTS}")
    return outputs


def _parse_spec(data: Any, source: str) -> DetectorSpec:
    _check(isinstance(data, dict), source, "<root>", "must be a JSON object")
    version = _require(data, "schema_version", source, "")
    if version != SCHEMA_VERSION:
        raise SpecError(
            f"{source}: unsupported schema_version {version!r} "
            f"(this sdk reads version {SCHEMA_VERSION})"
        )
    inp = _parse_input(_require(data, "input", source, ""), source)
    labels = _require(data, "labels", source, "")
    _check(
        isinstance(labels, list) and labels and all(isinstance(x, str) and x for x in labels),
        source, "labels", "must be a non-empty list of non-empty strings",
    )
    outputs = _parse_outputs(data.get("outputs", {}), source)
    try:
        nms = NmsSpec(**data.get("nms", {}))
    except TypeError as exc:
        raise SpecError(f"{source}: field 'nms': {exc}") from exc
    _check(0.0 <= nms.iou_threshold <= 1.0, source, "nms.iou_threshold", "must be in [0, 1]")
    _check(0.0 <= nms.score_threshold <= 1.0, source, "nms.score_threshold", "must be in [0, 1]")
    _check(nms.max_detections > 0, source, "nms.max_detections", "must be positive")
    for key in ("provenance", "metrics"):
        _check(isinstance(data.get(key, {}), dict), source, key, "must be an object")
    return DetectorSpec(
        input=inp, labels=tuple(labels), outputs=outputs, nms=nms,
        provenance=dict(data.get("provenance", {})), metrics=dict(data.get("metrics", {})),
        schema_version=version,
    )
