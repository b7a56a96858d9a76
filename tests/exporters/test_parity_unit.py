"""The parity gate's logic on a small numpy "model" (no TensorFlow, no conversion)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from exporters.parity import DEFAULT_BUDGETS, budget_for, check_parity, match_detections
from exporters.probes import probe_set
from exporters.source import ExportSource
from sdk.postprocess import RawDetections
from sdk.spec import DetectorSpec, InputSpec, OutputSpec

N, C, SIZE = 64, 3, 32


class NumpyModel:
    """Input-dependent boxes and scores: pooled pixels through fixed random projections."""

    def __init__(self, noise: float = 0.0):
        rng = np.random.default_rng(0)
        centre = rng.uniform(0.2, 0.8, (N, 2))
        self.anchors = np.concatenate([centre - 0.1, centre + 0.1], axis=1).astype(np.float32)
        self.w_cls, self.w_box = rng.normal(size=(16, N * C)), rng.normal(size=(16, N * 4))
        self.noise, self.description = noise, "numpy test model"

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = len(x)
        pooled = x.mean(-1).reshape(b, 4, SIZE // 4, 4, SIZE // 4).mean((2, 4)).reshape(b, 16)
        scores = 0.5 + 0.5 * np.tanh(2 * pooled @ self.w_cls).reshape(b, N, C)  # sigmoid
        boxes = self.anchors + 0.02 * np.tanh(pooled @ self.w_box).reshape(b, N, 4)
        return (boxes + self.noise).astype(np.float32), scores.astype(np.float32)


@pytest.fixture(scope="module")
def fake_source() -> ExportSource:
    spec = DetectorSpec(input=InputSpec(size=(SIZE, SIZE)), labels=("a", "b", "c"),
                        outputs=OutputSpec(num_anchors=N))
    return ExportSource("fake", spec, Path("/nonexistent"), NumpyModel().run)


@pytest.fixture(scope="module")
def probes():
    return probe_set(count=4)


def test_identical_outputs_pass_the_exact_budget(fake_source, probes):
    report = check_parity(NumpyModel(), fake_source.spec, fake_source, probes,
                          DEFAULT_BUDGETS["exact"])
    assert report.verdict == "pass", report.reasons
    assert report.raw["boxes"]["max_abs"] == 0 and report.detections["reference"] > 0
    assert report.detections["recall"] == 1.0 and "pass" in report.summary()


def test_small_noise_passes_fp16_but_fails_exact(fake_source, probes):
    noisy = NumpyModel(noise=2e-3)  # ~0.6 px at 320 px: fp16-sized, not fp32-sized
    assert check_parity(noisy, fake_source.spec, fake_source, probes,
                        DEFAULT_BUDGETS["fp16"]).verdict == "pass"
    exact = check_parity(noisy, fake_source.spec, fake_source, probes, DEFAULT_BUDGETS["exact"])
    assert exact.verdict == "fail" and any("matched IoU" in r for r in exact.reasons)


def test_wrong_normalization_in_the_spec_fails(fake_source, probes):
    broken = fake_source.spec.with_input(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    report = check_parity(NumpyModel(), broken, fake_source, probes, DEFAULT_BUDGETS["int8"])
    assert report.verdict == "fail" and report.reasons
    assert "fail" in report.summary()


def test_shape_mismatch_fails_with_the_shapes(fake_source, probes):
    class Truncated(NumpyModel):
        """Drops the last anchor: the gate must report the shapes, not crash."""

        def run(self, x):
            boxes, scores = super().run(x)
            return boxes[:, :-1], scores[:, :-1]

    report = check_parity(Truncated(), fake_source.spec, fake_source, probes,
                          DEFAULT_BUDGETS["int8"])
    assert report.verdict == "fail" and "shape" in report.reasons[0]


def test_matching_is_same_class_and_iou_gated():
    ref = RawDetections(np.array([[0.1, 0.1, 0.5, 0.5]], np.float32), np.array([0.9]),
                        np.array([1]))
    shifted = replace(ref, boxes=ref.boxes + 0.02, scores=np.array([0.8]))
    ious, deltas = match_detections(ref, shifted)
    assert len(ious) == 1 and 0.8 < ious[0] < 1 and deltas[0] == pytest.approx(0.1)
    assert match_detections(ref, replace(ref, classes=np.array([2]))) == ([], [])
    assert match_detections(ref, replace(ref, boxes=ref.boxes + 0.3)) == ([], [])


def test_budget_override_changes_only_the_delta_map():
    budget = budget_for("fp16", 0.25)
    assert budget.max_delta_map == 0.25
    assert replace(budget, max_delta_map=0.5) == DEFAULT_BUDGETS["fp16"]
