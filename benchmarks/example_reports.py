"""A complete, valid example benchmark report: the collector tests' fixture, the load payload."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any

from sdk.bench.protocol import MEASURE, PROTOCOL_VERSION

EXAMPLE_SHA256 = "5f1e0c3b9a7d4e2f8c6b1a0d9e8f7c6b5a4d3e2f1c0b9a8d7e6f5c4b3a2d1e0f"

_EXAMPLE: dict[str, Any] = {
    "protocol_version": PROTOCOL_VERSION,
    "created_at": "2026-05-20T10:00:00Z",
    "device": {
        "name": "Pixel 7",
        "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/125.0 Mobile",
        "platform": "Android",
        "cores": 8,
        "memory_gb": 8,
    },
    "runtime": {
        "name": "tfjs",
        "version": "4.22.0",
        "backend": "webgl",
        "threads": 1,
        "simd": True,
        "secure_context": True,
        "cross_origin_isolated": False,
        "gpu_renderer": "Adreno (TM) 730",
    },
    "model": {
        "name": "fast",
        "format": "tfjs",
        "quantization": "fp16",
        "sha256": EXAMPLE_SHA256,
        "input_size": [320, 320],
    },
    "timing": {
        "load_ms": 850.0,
        "first_inference_ms": 1450.0,
        "warmup_runs": 25,
        "warmup_ms": 520.0,
        "runs": 120,
        "duration_ms": 2460.0,
        "latency_ms": {
            "p50": 20.0,
            "p90": 23.5,
            "p99": 31.0,
            "min": 18.2,
            "max": 34.9,
            "mean": 20.6,
        },
        "stages_ms": {"preprocess": 1.6, "inference": 14.1, "readback": 2.2, "postprocess": 2.0},
        "fps": 50.0,
        "timed": "pre+infer+post",
    },
    "accuracy": {
        "probe_images": 8,
        "matched_fraction": 1.0,
        "passed": True,
        "max_score_delta": 0.02,
    },
    "page": {"hidden_during_run": False},
}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def example_report(overrides: Mapping[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """Return a fresh valid report dict (new ``report_id``) with nested overrides merged in.

    Example: ``example_report({"timing": {"fps": 10.0}}, notes="slow")``.
    """
    report = {"report_id": str(uuid.uuid4()), **copy.deepcopy(_EXAMPLE)}
    return _merge(report, {**(overrides or {}), **top})


def with_latency(report: dict[str, Any], p50_ms: float) -> dict[str, Any]:
    """Scale a report's latencies to median ``p50_ms``; FPS, runs and duration follow.

    Runs and duration are what :data:`~sdk.bench.protocol.MEASURE` would produce on a
    device with that latency, so the result stays valid.
    """
    timing = report["timing"]
    factor = p50_ms / timing["latency_ms"]["p50"]
    timing["latency_ms"] = {k: v * factor for k, v in timing["latency_ms"].items()}
    timing["stages_ms"] = {k: v * factor for k, v in timing["stages_ms"].items()}
    timing["fps"] = 1000.0 / p50_ms
    mean_s = timing["latency_ms"]["mean"] / 1000
    runs = 0
    while not MEASURE.should_stop(runs, runs * mean_s):
        runs += 1
    timing["runs"], timing["duration_ms"] = runs, runs * mean_s * 1000
    return report
