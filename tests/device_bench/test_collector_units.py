"""Pure helpers of the collector: token bucket, leaderboard aggregation, Pareto frontier."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from device_bench.leaderboard import cells, lookup_map, pareto_flags, variants
from device_bench.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=60, burst=2, clock=clock)
    assert [bucket.acquire("a") for _ in range(2)] == [0.0, 0.0]
    assert bucket.acquire("a") == pytest.approx(1.0)  # one token per second
    assert bucket.acquire("b") == 0.0  # other clients unaffected
    clock.now = 1.0
    assert bucket.acquire("a") == 0.0


def test_token_bucket_forgets_idle_clients_when_full() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_minute=60, burst=1, max_keys=4, clock=clock)
    for key in "abcd":
        bucket.acquire(key)
    clock.now = 10.0  # all refilled: indistinguishable from new clients
    bucket.acquire("e")
    assert len(bucket._buckets) == 1


def _sample(device: str, fps: float, model: str = "fast", **kw: str) -> SimpleNamespace:
    p50 = 1000 / fps
    return SimpleNamespace(device=device, model=model, format=kw.get("format", "tflite"),
                           quantization=kw.get("quantization", "int8"),
                           runtime=kw.get("runtime", "litert"),
                           backend=kw.get("backend", "xnnpack"), fps=fps, p50_ms=p50,
                           p90_ms=p50 * 1.2)  # fmt: skip


def test_cells_take_medians_and_flag_low_counts() -> None:
    rows = cells([_sample("pi", 10), _sample("pi", 30), _sample("pi", 20), _sample("mac", 99)], 3)
    assert [(r["device"], r["median_fps"], r["count"], r["low_count"]) for r in rows] == [
        ("mac", 99, 1, True),
        ("pi", 20, 3, False),
    ]


def test_pareto_flags() -> None:
    # (latency, mAP): the slow-and-worse point and the duplicate-but-slower one are dominated.
    points = [(10, 0.2), (20, 0.3), (30, 0.25), (40, 0.4), (25, 0.3)]
    assert pareto_flags(points) == [True, True, False, True, False]
    assert pareto_flags([(5, 0.1), (5, 0.1)]) == [True, True]  # ties do not dominate


def test_map_lookup_prefers_the_exact_variant() -> None:
    metrics = {"fast": {"map": 0.3}, "fast/tflite/int8": {"map": 0.27}}
    assert lookup_map(metrics, ("fast", "tflite", "int8")) == 0.27
    assert lookup_map(metrics, ("fast", "tfjs", "fp16")) == 0.3
    assert lookup_map(metrics, ("custom", "tfjs", "fp16")) is None


def test_variants_without_map_are_listed_but_off_the_frontier() -> None:
    rows = variants([_sample("pi", 50, model="custom"), _sample("pi", 10)], {"fast": {"map": 0.3}})
    assert [(r["variant"], r["map"], r["pareto"]) for r in rows] == [
        ("custom/tflite/int8", None, False),
        ("fast/tflite/int8", 0.3, True),
    ]


def test_one_export_on_two_engines_is_two_cells_and_two_variants() -> None:
    samples = [_sample("mac", 40, runtime="litert", backend="wasm"),
               _sample("mac", 20, runtime="tfjs", backend="wasm")]
    assert [(r["runtime"], r["median_fps"]) for r in cells(samples, 1)] == [
        ("litert", 40), ("tfjs", 20)]
    rows = variants(samples, {"fast/tflite/int8": {"map": 0.27}})
    assert [(r["variant"], r["runtime"], r["map"], r["pareto"]) for r in rows] == [
        ("fast/tflite/int8", "litert", 0.27, True),
        ("fast/tflite/int8", "tfjs", 0.27, False),  # as accurate, slower: off the frontier
    ]
