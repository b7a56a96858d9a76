"""Export folders laid out as ``sdk export --format tfjs`` writes them, as server test fixtures.

The model inside is not runnable (server tests never run one), but ``reference.json`` holds
real detections of a stand-in model on the real probe images, computed by the same pipeline
the exporter uses, so the benchmark's reference route is tested on the real format.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sdk.exports import REFERENCE_FILE, reference_document
from sdk.pipeline import Predict, as_dicts, detect_image
from sdk.probes import pixels_sha256, probe_description, synthetic_probes
from sdk.spec import DetectorSpec, InputSpec

LABELS = ("circle", "square", "triangle", "star", "hexagon", "cross")
SHARD = "group1-shard1of1.bin"


def fixed_predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in model: one confident 'square' box in the middle of every image."""
    boxes = np.array([[[0.25, 0.25, 0.75, 0.75], [0.0, 0.0, 0.1, 0.1]]], np.float32)
    scores = np.zeros((1, 2, len(LABELS)), np.float32)
    scores[0, 0, 1] = 0.9
    return boxes, scores


def write_reference(folder: Path, predict: Predict, spec: DetectorSpec,
                    source: str = "test fixture") -> Path:
    """``reference.json`` of ``predict`` on the probe images, as the exporter writes it."""
    images = synthetic_probes()
    detections = [as_dicts(detect_image(predict, image, spec.input, spec.nms), spec.labels)
                  for image in images]
    probes = {"description": probe_description(),
              "sha256": [pixels_sha256(image) for image in images]}
    document = reference_document(spec.labels, probes, detections, source)
    path = folder / REFERENCE_FILE
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


def write_fake_export(folder: Path, shard: bytes = b"\x00\x01" * 64,
                      reference: bool = True) -> Path:
    """model.json (manifest naming one shard), the shard, detector.json and reference.json."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "graph-model", "modelTopology": {"node": []},
                "weightsManifest": [{"paths": [SHARD], "weights": []}]}
    (folder / "model.json").write_text(json.dumps(manifest))
    (folder / SHARD).write_bytes(shard)
    spec = DetectorSpec(input=InputSpec(size=(96, 96)), labels=LABELS)
    spec.save(folder)
    if reference:
        write_reference(folder, fixed_predict, spec)
    return folder
