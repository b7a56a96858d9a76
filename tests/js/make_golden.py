"""Golden JSON for the JavaScript ports, produced by the Python reference.

``sdk/js/postprocess.js`` and ``sdk/js/preprocess.js`` port ``sdk/postprocess.py``,
``sdk/output_kinds.py`` and ``sdk/preprocess.py`` (with Pillow's resize); the Node tests in
this folder run the ports on the inputs stored here and compare with the Python results. Run
``python tests/js/make_golden.py`` after changing the Python reference; ``test_js_golden.py``
fails while the committed file is stale.

Raw tensors are stored as base64 little-endian float32/uint8 so both sides read the exact
same numbers.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from sdk.output_kinds import detections_to_raw, yolo_to_canonical
from sdk.pipeline import outputs_to_pixels, to_pixels
from sdk.postprocess import postprocess
from sdk.preprocess import fit, preprocess, unletterbox_boxes
from sdk.spec import DetectorSpec, InputSpec, NmsSpec

GOLDEN = Path(__file__).with_name("golden.json")
LABELS = ("circle", "square", "triangle")


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype).tobytes()).decode("ascii")


def clustered_boxes(rng: np.random.Generator, n: int, objects: int,
                    centres: tuple[float, float], sizes: tuple[float, float], spread: float,
                    jitter: tuple[float, float]) -> np.ndarray:
    """``n`` normalized xyxy float32 boxes jittered around ``objects`` objects, as a
    detector's raw boxes are (centre noise ``spread``, size factor in ``jitter``)."""
    where = rng.uniform(*centres, (objects, 2))
    side = rng.uniform(*sizes, (objects, 2))
    which = rng.integers(0, objects, n)
    centre = where[which] + rng.normal(0, spread, (n, 2))
    half = side[which] * rng.uniform(*jitter, (n, 2)) / 2
    return np.concatenate([centre - half, centre + half], 1).astype(np.float32)


def _raw_outputs(rng: np.random.Generator, n: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes clustered around a few objects (as a detector's are) and noisy scores."""
    boxes = clustered_boxes(rng, n, 8, (0.1, 0.9), (0.05, 0.4), 0.03, (0.7, 1.3))
    scores = rng.uniform(0, 1, (n, c)) ** 3
    scores[np.arange(n), rng.integers(0, c, n)] += 0.4 * rng.uniform(0, 1, n)
    return boxes, np.clip(scores, 0, 1).astype(np.float32)


def _nms_dict(spec: NmsSpec) -> dict[str, Any]:
    return asdict(spec)


def _postprocess_case(name: str, boxes: np.ndarray, scores: np.ndarray, spec: NmsSpec,
                      **overrides: Any) -> dict[str, Any]:
    keys = {"scoreThreshold": "score_threshold", "iouThreshold": "iou_threshold",
            "maxDetections": "max_detections"}
    out = postprocess(boxes, scores, spec, **{keys[k]: v for k, v in overrides.items()})
    return {
        "name": name, "numClasses": scores.shape[1], "nms": _nms_dict(spec),
        "overrides": overrides, "boxes": _b64(boxes, "<f4"), "scores": _b64(scores, "<f4"),
        "expected": {"boxes": out.boxes.tolist(), "scores": out.scores.tolist(),
                     "classes": out.classes.tolist()},
    }


def postprocess_cases() -> list[dict[str, Any]]:
    """Threshold, ordering, ties, top-k, class-aware/agnostic NMS and overrides."""
    rng = np.random.default_rng(0)
    boxes, scores = _raw_outputs(rng, 250, 3)
    tied = (np.round(scores * 4) / 4).astype(np.float32)  # many equal scores
    exact = scores.copy()
    exact[::7, 0] = np.float32(0.3)  # exactly the threshold: must not pass
    return [
        _postprocess_case("class_aware", boxes, scores, NmsSpec()),
        _postprocess_case("class_agnostic", boxes, scores, NmsSpec(class_agnostic=True)),
        _postprocess_case("ties_top_k", boxes, tied, NmsSpec(pre_nms_top_k=37, iou_threshold=0.45)),
        _postprocess_case("overrides", boxes, scores, NmsSpec(), scoreThreshold=0.2,
                          iouThreshold=0.6, maxDetections=5),
        _postprocess_case("threshold_is_strict", boxes, exact, NmsSpec(score_threshold=0.3)),
        _postprocess_case("iou_zero", boxes, scores, NmsSpec(iou_threshold=0.0)),
        _postprocess_case("nothing", boxes, scores * 0.1, NmsSpec()),
        _postprocess_case("many_kept", boxes, scores, NmsSpec(max_detections=200),
                          scoreThreshold=0.05, iouThreshold=0.9),
    ]


def _half_rounding_sizes(in_h: int, in_w: int) -> list[tuple[int, int]]:
    """Image sizes whose letterboxed side is exactly x.5 (Python rounds half to even)."""
    found = []
    for w in range(20, 400, 7):
        for h in range(20, 400, 11):
            scale = min(in_w / w, in_h / h)
            if (w * scale) % 1 == 0.5 or (h * scale) % 1 == 0.5:
                found.append((w, h))
    return found[:6]


def _input_dict(spec: InputSpec) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(spec)))


def letterbox_cases() -> list[dict[str, Any]]:
    """fit() geometry and the box inverse for letterbox and stretch."""
    rng = np.random.default_rng(1)
    sizes = [(640, 427), (427, 640), (96, 96), (33, 250), *_half_rounding_sizes(96, 128)]
    cases = []
    for resize in ("letterbox", "stretch"):
        spec = InputSpec(size=(96, 128), resize=resize)
        for w, h in sizes:
            box = fit(w, h, spec)
            norm = rng.uniform(-0.1, 1.1, (5, 4)).astype(np.float32)
            cases.append({"image": [w, h], "input": _input_dict(spec),
                          "expected": {"scaleX": box.scale_x, "scaleY": box.scale_y,
                                       "padX": box.pad_x, "padY": box.pad_y},
                          "boxes": norm.tolist(),
                          "pixels": unletterbox_boxes(norm, box).tolist()})
    return cases


def resize_cases() -> list[dict[str, Any]]:
    """Image -> model input through Pillow (downscale, upscale, stretch, BGR, mean/std)."""
    rng = np.random.default_rng(2)
    specs = [((37, 23), InputSpec(size=(16, 16))),
             ((10, 7), InputSpec(size=(32, 32), pad_value=0)),
             ((90, 70), InputSpec(size=(24, 32))),
             ((300, 40), InputSpec(size=(24, 32))),  # 9x downscale: wide filter
             ((64, 48), InputSpec(size=(20, 30), resize="stretch", channel_order="BGR",
                                  mean=(123.7, 116.3, 103.5), std=(58.4, 57.1, 57.4))),
             # Integer inputs (quantized models): normalized, then quantized.
             ((50, 31), InputSpec(size=(16, 24), dtype="uint8", mean=(0, 0, 0),
                                  std=(1, 1, 1), quant_scale=1.0, quant_zero_point=0)),
             ((45, 60), InputSpec(size=(24, 16), dtype="int8", quant_scale=0.0078125,
                                  quant_zero_point=-1, channel_order="BGR")),
             ((33, 70), InputSpec(size=(20, 20), dtype="uint8", quant_scale=0.0078431,
                                  quant_zero_point=128))]
    cases = []
    for (w, h), spec in specs:
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        x, _ = preprocess(image, spec)
        stored = {"float32": "<f4", "uint8": "u1", "int8": "i1"}[spec.dtype]
        cases.append({"image": _b64(image, "u1"), "width": w, "height": h,
                      "input": _input_dict(spec), "expected": _b64(x, stored)})
    return cases


def pipeline_cases() -> list[dict[str, Any]]:
    """Raw outputs of one image -> detections in original pixels (sdk.pipeline.to_pixels, as
    Detector.detect runs it)."""
    rng = np.random.default_rng(3)
    boxes, scores = _raw_outputs(rng, 300, len(LABELS))
    cases = []
    for (w, h), spec in (((640, 427), InputSpec(size=(96, 96))),
                         ((300, 500), InputSpec(size=(96, 96), resize="stretch"))):
        found = to_pixels(boxes, scores, fit(w, h, spec), NmsSpec())
        cases.append({
            "image": [w, h], "input": _input_dict(spec), "labels": list(LABELS),
            "nms": _nms_dict(NmsSpec()), "boxes": _b64(boxes, "<f4"),
            "scores": _b64(scores, "<f4"),
            "expected": [{"bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]),
                                   float(b[3] - b[1])],
                          "label": LABELS[c], "score": float(s), "classId": int(c)}
                         for b, s, c in zip(found.boxes, found.scores, found.classes,
                                            strict=True)],
        })
    return cases


def yolo_outputs(boxes: np.ndarray, scores: np.ndarray, layout: str,
                 scale: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Normalized xyxy boxes + scores -> one YOLO tensor (batch of one): cx, cy, w, h (times
    ``scale`` = (width, height) for pixel units) then the scores, in ``layout``."""
    sx, sy = scale
    cxcywh = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2 * sx, (boxes[:, 1] + boxes[:, 3]) / 2 * sy,
                       (boxes[:, 2] - boxes[:, 0]) * sx, (boxes[:, 3] - boxes[:, 1]) * sy], 1)
    rows = np.concatenate([cxcywh, scores], 1).astype(np.float32)  # [N, 4+C]
    return (rows.T if layout == "features_first" else rows)[None].copy()


def detections_outputs(rng: np.random.Generator, n: int, count: int, offset: int,
                       num_classes: int) -> list[np.ndarray]:
    """Post-NMS outputs as TFLite_Detection_PostProcess writes them (batch of one):
    locations ymin, xmin, ymax, xmax; class ids as floats (some outside the labels, one a
    hair off an integer); scores mostly descending; the count of valid rows."""
    xyxy = clustered_boxes(rng, n, 4, (0.2, 0.8), (0.1, 0.4), 0.1, (0.8, 1.2))
    locations = xyxy[:, [1, 0, 3, 2]]
    classes = rng.integers(offset - 1, offset + num_classes + 1, n).astype(np.float32)
    classes[1] = np.float32(offset + 1) - np.float32(1e-4)
    scores = np.sort(rng.uniform(0.1, 1.0, n).astype(np.float32))[::-1].copy()
    scores[3], scores[4] = scores[4], scores[3]  # not quite sorted: sorted again, stably
    scores[5] = scores[6] = np.float32(0.3)  # the threshold exactly: must not pass
    return [locations[None], classes[None], scores[None], np.array([count], np.float32)]


def _kind_case(name: str, spec: DetectorSpec, image: tuple[int, int], outputs: list[np.ndarray],
               **overrides: Any) -> dict[str, Any]:
    keys = {"scoreThreshold": "score_threshold", "iouThreshold": "iou_threshold",
            "maxDetections": "max_detections"}
    args = {keys[k]: v for k, v in overrides.items()}
    found = outputs_to_pixels(outputs, spec, fit(*image, spec.input), **args)
    case: dict[str, Any] = {
        "name": name, "spec": spec.to_dict(), "image": list(image), "overrides": overrides,
        "outputs": [_b64(o, "<f4") for o in outputs],
        "expected": [{"bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]),
                               float(b[3] - b[1])],
                      "label": spec.labels[c], "score": float(s), "classId": int(c)}
                     for b, s, c in zip(found.boxes, found.scores, found.classes, strict=True)],
    }
    if spec.outputs.kind == "yolo":  # the decoded tensors, compared bit for bit
        boxes, scores = yolo_to_canonical(outputs[0], spec.outputs, spec.num_classes,
                                          spec.input.size)
        case["canonical"] = {"boxes": _b64(boxes, "<f4"), "scores": _b64(scores, "<f4")}
    else:
        thr = overrides.get("scoreThreshold", spec.nms.score_threshold)
        top = overrides.get("maxDetections", spec.nms.max_detections)
        raw = detections_to_raw(*outputs, spec.outputs, spec.num_classes, thr, top)
        case["raw"] = {"boxes": raw.boxes.tolist(), "scores": raw.scores.tolist(),
                       "classes": raw.classes.tolist()}
    return case


def kind_cases() -> list[dict[str, Any]]:
    """Outputs of detectors from elsewhere (``outputs.kind`` yolo and detections) -> pixel
    detections, through :func:`sdk.pipeline.outputs_to_pixels` as ``Detector.detect`` runs it."""
    rng = np.random.default_rng(4)
    boxes, scores = _raw_outputs(rng, 300, len(LABELS))

    def spec(outputs: dict[str, Any], **input_fields: Any) -> DetectorSpec:
        return DetectorSpec.from_dict({
            "schema_version": 1, "labels": list(LABELS), "outputs": outputs,
            "input": {"size": [96, 128], **input_fields}}, "golden")

    yolo_px = spec({"kind": "yolo", "predictions": "output0", "box_units": "pixels"})
    yolo_norm = spec({"kind": "yolo", "predictions": "output0", "layout": "anchors_first",
                      "box_units": "normalized"}, resize="stretch")
    dets = spec({"kind": "detections", "locations": "TFLite_Detection_PostProcess",
                 "classes": "TFLite_Detection_PostProcess:1",
                 "scores": "TFLite_Detection_PostProcess:2",
                 "num_detections": "TFLite_Detection_PostProcess:3", "label_offset": 1})
    dets0 = spec({"kind": "detections", "locations": "location", "classes": "category",
                  "scores": "score", "num_detections": "number of detections"},
                 resize="stretch")
    pixels_first = yolo_outputs(boxes, scores, "features_first", (128.0, 96.0))
    rows = yolo_outputs(boxes, scores, "anchors_first")
    return [
        _kind_case("yolo_pixels_features_first", yolo_px, (640, 427), [pixels_first]),
        _kind_case("yolo_normalized_anchors_first", yolo_norm, (300, 500), [rows]),
        _kind_case("yolo_overrides", yolo_px, (427, 640), [pixels_first], scoreThreshold=0.2,
                   iouThreshold=0.6, maxDetections=5),
        _kind_case("detections_offset", dets, (640, 427), detections_outputs(rng, 20, 17, 1, 3)),
        _kind_case("detections_overrides", dets0, (300, 500),
                   detections_outputs(rng, 25, 25, 0, 3), scoreThreshold=0.5, maxDetections=4),
        _kind_case("detections_none", dets0, (300, 500), detections_outputs(rng, 10, 0, 0, 3)),
    ]


def golden() -> dict[str, Any]:
    """Everything the Node tests compare against."""
    return {"postprocess": postprocess_cases(), "letterbox": letterbox_cases(),
            "resize": resize_cases(), "pipeline": pipeline_cases(), "kinds": kind_cases()}


def render() -> str:
    # One case per line: compact, yet a diff still points at the case that changed.
    return json.dumps(golden(), separators=(",", ":")).replace('},{"', '},\n{"') + "\n"


if __name__ == "__main__":
    GOLDEN.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {GOLDEN}\n")
