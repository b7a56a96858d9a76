"""fp32 reference detections on the probe images, for the benchmark's accuracy fingerprint.

The probe images are the bundled sample images. The reference is computed once per model
from its fp32 source weights with the Python reference pre/post-processing
(:mod:`sdk.preprocess`, :mod:`sdk.postprocess`), and shared by all its quantizations: a
browser backend whose detections drift from it (e.g. iOS half-float) fails the check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sdk.atomic import write_text_atomic
from sdk.spec import InputSpec, NmsSpec

SAMPLES_DIR = Path(__file__).resolve().parent / "static" / "samples"
STATE_DIR = ".web_demo"  # inside EXPORTS_DIR: build lock and reference detections
# One image -> (boxes [1, N, 4] normalized xyxy, scores [1, N, C]), as numpy.
Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def probe_paths() -> list[Path]:
    """The probe images, in a fixed order."""
    return sorted(SAMPLES_DIR.glob("*.jpg"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reference_path(exports_dir: str | Path, model: str) -> Path:
    return Path(exports_dir) / STATE_DIR / f"reference-{model}.json"


def load(exports_dir: str | Path, model: str) -> dict[str, Any] | None:
    """The stored reference of ``model`` if it matches the current probe images, else None."""
    path = reference_path(exports_dir, model)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    current = [(p.name, _sha256(p)) for p in probe_paths()]
    stored = [(p.get("name"), p.get("sha256")) for p in data.get("probes", [])]
    return data if current and stored == current else None


def is_current(exports_dir: str | Path, model: str) -> bool:
    return load(exports_dir, model) is not None


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def detect(predict: Predict, input_spec: InputSpec, nms: NmsSpec, labels: Sequence[str],
           image: np.ndarray) -> list[dict[str, Any]]:
    """Detections ``{"box": [x1, y1, x2, y2] pixels, "label", "score"}`` of one image."""
    from sdk.postprocess import postprocess
    from sdk.preprocess import preprocess, unletterbox_boxes

    inputs, box = preprocess(image, input_spec)
    boxes, scores = predict(inputs)
    raw = postprocess(boxes[0], scores[0], nms)
    pixels = unletterbox_boxes(raw.boxes, box)
    return [{"box": [round(float(v), 2) for v in b], "label": labels[int(c)],
             "score": round(float(s), 4)}
            for b, s, c in zip(pixels, raw.scores, raw.classes, strict=True)]


def compute(predict: Predict, input_spec: InputSpec, nms: NmsSpec,
            labels: Sequence[str]) -> list[dict[str, Any]]:
    """Reference entries for every probe image."""
    entries = []
    for path in probe_paths():
        image = _read_rgb(path)
        entries.append({
            "name": path.name, "sha256": _sha256(path),
            "width": int(image.shape[1]), "height": int(image.shape[0]),
            "detections": detect(predict, input_spec, nms, labels, image),
        })
    return entries


def save(exports_dir: str | Path, model: str, probes: list[dict[str, Any]],
         score_threshold: float, source_weights_sha256: str | None = None) -> Path:
    """Write the reference of ``model`` (atomically), with the weights it came from."""
    path = reference_path(exports_dir, model)
    data = {"model": model, "score_threshold": score_threshold, "probes": probes,
            "source_weights_sha256": source_weights_sha256}
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")
    return path


def keras_predict(model: Any) -> Predict:
    """Wrap a Keras inference model (outputs ``boxes`` and ``scores``) as :data:`Predict`."""

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = model(inputs, training=False)
        return np.asarray(out["boxes"]), np.asarray(out["scores"])

    return predict


def build(exports_dir: str | Path, model: str, source: str | Path | None = None) -> Path:
    """Compute and store the reference of ``model`` from its trained weights.

    Args:
        exports_dir: Where the exports (and their references) live.
        model: The model name of the variants (``fast``, ``accurate``, ...).
        source: Trained detector folder; defaults to the bundled weights named ``model``.
    """
    from sdk.models import build_inference_model
    from sdk.models.io import load_detector, weights_sha256

    net, cfg, model_dir = load_detector(source or model)
    probes = compute(keras_predict(build_inference_model(net, cfg)), cfg.input_spec, cfg.nms,
                     cfg.labels)
    return save(exports_dir, model, probes, cfg.nms.score_threshold, weights_sha256(model_dir))


def source_weights(exports_dir: str | Path, model: str) -> str | None:
    """sha256 of the weights the stored reference of ``model`` was computed from."""
    data = load(exports_dir, model)
    return data.get("source_weights_sha256") if data else None
