"""End to end: the CoreML exports of a tiny detector (``smooth_source``, see conftest.py), run
by the interpreter through the parity gate's runner protocol, against the Keras float32
reference on the probe images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# Worst cosine to the float32 reference accepted per quantization (boxes, scores). fp16 is
# the requirement; the compressed exports must stay recognisably the same network. Measured
# score cosines: 0.999994, 0.9994, 0.993, 0.973 (boxes: all above 0.99999).
MIN_COSINE = {"fp16": 0.999, "int8": 0.99, "palettize6": 0.98, "palettize4": 0.9}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.slow
@pytest.mark.parametrize("quantization", list(MIN_COSINE))
def test_coreml_export_runs_close_to_keras(smooth_source, probes, tmp_path: Path,
                                            quantization: str):
    from exporters.export import export
    from exporters.formats.coreml.mil.runner import InterpreterRunner

    # allow_degraded: this checks the interpreter against Keras, the gate is test_formats'
    result = export(smooth_source, "coreml", quantization, out_root=tmp_path,
                    allow_degraded=True)
    runner = InterpreterRunner(result.artifact, result.spec)
    boxes, scores = runner.run(probes)
    ref_boxes, ref_scores = smooth_source.reference(probes)
    assert boxes.shape == ref_boxes.shape and scores.shape == ref_scores.shape
    assert boxes.dtype == scores.dtype == np.float32
    cosines = _cosine(boxes, ref_boxes), _cosine(scores, ref_scores)
    assert min(cosines) > MIN_COSINE[quantization], cosines
    if quantization == "fp16":  # measured: 0.002 and 0.009
        assert np.abs(boxes - ref_boxes).max() < 0.01
        assert 1e-5 < np.abs(scores - ref_scores).max() < 0.05  # float16 rounding shows
        assert runner.latency(probes, runs=2, warmup=1) == []  # no device timing here
        assert "interpreter" in runner.description
