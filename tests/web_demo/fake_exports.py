"""Export folders that look like TF.js exports, for server tests that never run a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sdk.spec import DetectorSpec, InputSpec
from web_demo import reference

LABELS = ("circle", "square", "triangle", "star", "hexagon", "cross")
SHARD = "group1-shard1of1.bin"


def write_fake_export(folder: Path, shard: bytes = b"\x00\x01" * 64) -> Path:
    """A folder with model.json (manifest naming one shard), the shard and detector.json."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "graph-model", "modelTopology": {"node": []},
                "weightsManifest": [{"paths": [SHARD], "weights": []}]}
    (folder / "model.json").write_text(json.dumps(manifest))
    (folder / SHARD).write_bytes(shard)
    DetectorSpec(input=InputSpec(size=(96, 96)), labels=LABELS).save(folder)
    return folder


def fixed_predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stand-in model: one confident 'square' box in the middle of every image."""
    boxes = np.array([[[0.25, 0.25, 0.75, 0.75], [0.0, 0.0, 0.1, 0.1]]], np.float32)
    scores = np.zeros((1, 2, len(LABELS)), np.float32)
    scores[0, 0, 1] = 0.9
    return boxes, scores


def write_fake_reference(exports_dir: Path, model: str) -> Path:
    """The reference detections of :func:`fixed_predict` on the probe images."""
    spec = DetectorSpec(input=InputSpec(size=(96, 96)), labels=LABELS)
    probes = reference.compute(fixed_predict, spec.input, spec.nms, LABELS)
    return reference.save(exports_dir, model, probes, spec.nms.score_threshold)
