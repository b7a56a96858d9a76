"""The standardized device benchmark, run with the Python runtime (``sdk bench``).

Same protocol as the browser (``sdk.bench.protocol``): model load, first inference,
warm-up and measured loop each bounded by count and time, percentiles, FPS from the median,
per-stage medians, an accuracy fingerprint against reference detections, and the
environment. Produces a report dict in the collector's schema v1.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sdk.bench.protocol import (
    DEFAULT_TIMED,
    MEASURE,
    PROTOCOL_VERSION,
    STAGES,
    WARMUP,
    LoopBounds,
    compare_detections,
    fps_from_p50,
    summarize,
)
from sdk.pipeline import as_dicts


def _loop(detector: Any, probes: Sequence[np.ndarray], bounds: LoopBounds) -> list[Any]:
    """Run detect over the probes round-robin until ``bounds`` says stop; return timings."""
    timings, start = [], time.perf_counter()
    while not bounds.should_stop(len(timings), time.perf_counter() - start):
        detector.detect_arrays(probes[len(timings) % len(probes)])
        timings.append(detector.last_timings)
    return timings


def detections_on(detector: Any, probes: Sequence[np.ndarray]) -> list[list[dict[str, Any]]]:
    """Per-probe detections as ``{"box", "label", "score"}`` dicts (fingerprint format)."""
    return [as_dicts(detector.detect_arrays(p), detector.labels) for p in probes]


def _timing(load_ms: float, first_ms: float, warm: list, warm_s: float, runs: list,
            run_s: float) -> dict[str, Any]:
    totals = [t.total for t in runs]
    latency = summarize(totals)
    stages = {s: statistics.median(getattr(t, s) for t in runs) for s in STAGES}
    return {
        "load_ms": load_ms, "first_inference_ms": first_ms, "warmup_runs": len(warm),
        "warmup_ms": warm_s * 1000, "runs": len(runs), "duration_ms": run_s * 1000,
        "latency_ms": {k: latency[k] for k in ("p50", "p90", "p99", "min", "max", "mean")},
        "stages_ms": stages, "fps": fps_from_p50(latency["p50"]), "timed": DEFAULT_TIMED,
    }


def environment(detector: Any, threads: int | None) -> dict[str, Any]:
    """What ran the benchmark: runtime, accelerator and library version as the engine
    declares them (:mod:`sdk.runtime.registry`), threads, machine."""
    backend = detector.backend
    return {
        "device": {"name": platform.node() or "unknown", "user_agent": f"python/"
                   f"{platform.python_version()}", "platform": f"{platform.system()} "
                   f"{platform.machine()}", "cores": os.cpu_count() or 1,
                   "memory_gb": _memory_gb()},
        "runtime": {"name": backend.runtime, "version": backend.library_version(),
                    "backend": backend.accelerator, "threads": threads or os.cpu_count() or 1,
                    "simd": True, "secure_context": True, "cross_origin_isolated": False,
                    "gpu_renderer": None},
    }


def _memory_gb() -> float:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return 0.0


def run_benchmark(model_path: Path, probes: Sequence[np.ndarray],
                  reference: Sequence[Sequence[dict[str, Any]]] | None,
                  model_info: dict[str, Any], threads: int | None = None,
                  warmup: LoopBounds | None = None,
                  measure: LoopBounds | None = None,
                  why_no_reference: str = "no fp32 reference") -> dict[str, Any]:
    """Load ``model_path``, run the protocol on ``probes`` and return a schema-v1 report.

    ``reference`` holds the fp32 reference detections of the probes; without it the
    fingerprint compares the model with itself and ``notes`` says so, and why
    (``why_no_reference``).
    """
    import sdk

    t0 = time.perf_counter()
    detector = sdk.load(model_path, num_threads=threads)
    load_ms = (time.perf_counter() - t0) * 1000
    detector.detect_arrays(probes[0])
    first_ms = detector.last_timings.total
    w0 = time.perf_counter()
    warm = _loop(detector, probes, warmup or WARMUP)
    m0 = time.perf_counter()
    runs = _loop(detector, probes, measure or MEASURE)
    run_s = time.perf_counter() - m0
    measured = detections_on(detector, probes)
    fingerprint = compare_detections(reference if reference is not None else measured, measured)
    return {
        "report_id": str(uuid.uuid4()), "protocol_version": PROTOCOL_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **environment(detector, threads),
        "model": {**model_info, "input_size": list(detector.spec.input.size)},
        "timing": _timing(load_ms, first_ms, warm, m0 - w0, runs, run_s),
        "accuracy": {"probe_images": fingerprint.probe_images,
                     "matched_fraction": fingerprint.matched_fraction,
                     "passed": fingerprint.passed,
                     "max_score_delta": fingerprint.max_score_delta},
        "page": {"hidden_during_run": False},
        **({} if reference is not None else
           {"notes": f"{why_no_reference}: self-fingerprint"}),
    }
