"""The benchmark protocol (sdk.bench.protocol): loop bounds, statistics, fingerprint."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sdk.bench import protocol
from sdk.bench.protocol import MEASURE, WARMUP, ProtocolError, compare_detections, summarize


def test_summarize_matches_numpy_linear_percentiles() -> None:
    values = np.random.default_rng(0).gamma(4.0, 5.0, size=137)
    stats = summarize(values.tolist())
    for q in (50, 90, 99):
        assert stats[f"p{q}"] == pytest.approx(np.percentile(values, q))
    assert stats["min"] == values.min() and stats["max"] == values.max()
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["count"] == 137


def test_summarize_single_value() -> None:
    assert summarize([7.0]) == {
        "p50": 7.0, "p90": 7.0, "p99": 7.0, "min": 7.0, "max": 7.0, "mean": 7.0, "count": 1,
    }  # fmt: skip


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [1.0, -2.0], [float("inf")]])
def test_summarize_rejects_bad_input(bad: list[float]) -> None:
    with pytest.raises(ProtocolError):
        summarize(bad)


def test_fps_comes_from_the_median() -> None:
    assert protocol.fps_from_p50(20.0) == 50.0
    assert protocol.fps_consistent(51.0, 20.0)
    assert not protocol.fps_consistent(60.0, 20.0)
    assert protocol.fps_consistent(0.0, 0.0)


@pytest.mark.parametrize(
    ("runs", "elapsed", "stop"),
    [
        (49, 5.0, False),  # enough time, too few runs
        (50, 1.9, False),  # enough runs, too little time
        (50, 2.0, True),
        (MEASURE.max_runs, 0.1, True),  # a fast device stops at the run cap
        (12, MEASURE.max_seconds, True),  # a slow device stops at the time cap
    ],
)
def test_measured_loop_is_bounded_by_count_and_time(runs: int, elapsed: float, stop: bool) -> None:
    assert MEASURE.should_stop(runs, elapsed) is stop


def test_warmup_needs_a_run_and_half_a_second() -> None:
    assert not WARMUP.should_stop(1, 0.4)
    assert WARMUP.should_stop(1, 0.5)
    assert not WARMUP.is_complete(0, 10.0)


def _det(box: list[float], label: str = "person", score: float = 0.9) -> dict:
    return {"box": box, "label": label, "score": score}


REFERENCE = [[_det([0.1, 0.1, 0.5, 0.5]), _det([0.6, 0.6, 0.9, 0.9], "dog", 0.8)], []]


def test_identical_detections_pass() -> None:
    result = compare_detections(REFERENCE, REFERENCE)
    assert result.passed and result.matched_fraction == 1.0 and result.max_score_delta == 0.0
    assert result.probe_images == 2 and result.reference_boxes == 2


def test_small_shift_and_score_change_still_match() -> None:
    measured = [[_det([0.11, 0.1, 0.51, 0.5], score=0.7), _det([0.6, 0.6, 0.9, 0.9], "dog")], []]
    result = compare_detections(REFERENCE, measured)
    assert result.passed
    assert result.max_score_delta == pytest.approx(0.2)


@pytest.mark.parametrize(
    "measured",
    [
        [[_det([0.1, 0.1, 0.5, 0.5], "cat"), _det([0.6, 0.6, 0.9, 0.9], "cat")], []],  # labels
        [[_det([0.3, 0.3, 0.7, 0.7]), _det([0.0, 0.0, 0.2, 0.2], "dog")], []],  # IoU < 0.5
        [[], []],  # nothing detected (a broken backend)
    ],
)
def test_broken_detections_fail(measured: list) -> None:
    result = compare_detections(REFERENCE, measured)
    assert not result.passed and result.matched_fraction == 0.0


def test_one_measured_box_recalls_one_reference_box() -> None:
    reference = [[_det([0.1, 0.1, 0.5, 0.5]), _det([0.1, 0.1, 0.5, 0.5], score=0.5)]]
    result = compare_detections(reference, [[_det([0.1, 0.1, 0.5, 0.5])]])
    assert result.matched_fraction == 0.5 and not result.passed


def test_image_count_mismatch_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="2 reference images but 1"):
        compare_detections(REFERENCE, [[]])


def test_protocol_dict_is_json_and_versioned() -> None:
    data = json.loads(json.dumps(protocol.protocol_dict()))
    assert data["version"] == protocol.PROTOCOL_VERSION == 1
    assert data["measure"] == {
        "min_runs": 50, "min_seconds": 2.0, "max_runs": 500, "max_seconds": 20.0,
    }  # fmt: skip
    assert data["stages"] == ["preprocess", "inference", "readback", "postprocess"]


def test_protocol_import_stays_light() -> None:
    code = (
        "import sys, sdk.bench.protocol; "
        "heavy = {'flask', 'device_bench', 'numpy', 'pydantic', 'tensorflow'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
