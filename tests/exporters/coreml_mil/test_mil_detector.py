"""End to end: the CoreML exports of a tiny detector, run by the interpreter through the parity
gate's runner protocol, against the Keras float32 reference on the probe images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# Worst cosine to the float32 reference accepted per quantization (boxes, scores). fp16 is
# the requirement; the compressed exports must stay recognisably the same network.
MIN_COSINE = {"fp16": 0.999, "int8": 0.99, "palettize6": 0.98, "palettize4": 0.9}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def probes(source) -> np.ndarray:
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    return np.concatenate([preprocess(image, source.spec.input)[0]
                           for image in synthetic_probes()])


@pytest.mark.slow
@pytest.mark.parametrize("quantization", list(MIN_COSINE))
def test_coreml_export_runs_close_to_keras(source, probes, tmp_path: Path, quantization: str):
    from exporters.export import export
    from exporters.formats.coreml.mil.runner import InterpreterRunner

    result = export(source, "coreml", quantization, out_root=tmp_path)
    runner = InterpreterRunner(result.artifact, result.spec)
    boxes, scores = runner.run(probes)
    ref_boxes, ref_scores = source.reference(probes)
    assert boxes.shape == ref_boxes.shape and scores.shape == ref_scores.shape
    assert boxes.dtype == scores.dtype == np.float32
    cosines = _cosine(boxes, ref_boxes), _cosine(scores, ref_scores)
    assert min(cosines) > MIN_COSINE[quantization], cosines
    if quantization == "fp16":
        assert np.abs(boxes - ref_boxes).max() < 0.01
        assert np.abs(scores - ref_scores).max() < 0.02
        # float16 rounding is visible: not the float32 numbers
        assert np.abs(scores - ref_scores).max() > 1e-5
        latency = runner.latency(probes, runs=2, warmup=1)
        assert len(latency) == 2 and min(latency) > 0
        assert "interpreter" in runner.description
