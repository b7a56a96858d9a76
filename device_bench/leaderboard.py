"""Leaderboard aggregation: medians per cell, and the speed/accuracy frontier of variants.

The engine that ran a model ("runtime": tfjs, litert, ort, onnxruntime, ...) is a dimension of
both: one export can run on several engines at very different speeds, so a variant is a
model x format x quantization x runtime.

Medians are taken in Python (portable across SQLite and PostgreSQL; the set of valid
reports per query is small). A cell shows the median of its reports and how many there are.
"""

from __future__ import annotations

import operator
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CELL_KEYS = ("device", "model", "format", "quantization", "runtime", "backend")
VARIANT_KEYS = ("model", "format", "quantization", "runtime")


def _group(samples: Iterable[Any], keys: Sequence[str]) -> dict[tuple[str, ...], list[Any]]:
    groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    key_of = operator.attrgetter(*keys)  # a tuple for several keys; in C: boards get big
    for sample in samples:
        groups[key_of(sample)].append(sample)
    return groups


def cells(samples: Iterable[Any], min_reports: int) -> list[dict[str, Any]]:
    """Aggregate valid samples per device x model x format x quantization x runtime x backend.

    Each sample has the attributes of :data:`CELL_KEYS` plus ``fps``, ``p50_ms`` and
    ``p90_ms``. Rows are sorted by device, then fastest first.
    """
    rows = []
    for key, group in _group(samples, CELL_KEYS).items():
        rows.append(
            {
                **dict(zip(CELL_KEYS, key, strict=True)),
                "median_fps": statistics.median(s.fps for s in group),
                "p50_latency_ms": statistics.median(s.p50_ms for s in group),
                "p90_latency_ms": statistics.median(s.p90_ms for s in group),
                "count": len(group),
                "low_count": len(group) < min_reports,
            }
        )
    return sorted(rows, key=lambda r: (r["device"].lower(), -r["median_fps"]))


def variant_key(model: str, fmt: str, quantization: str) -> str:
    """Return the ``MODEL_METRICS`` key of a model variant, e.g. ``fast/tflite/int8`` (the
    accuracy of an export does not depend on the engine that runs it)."""
    return f"{model}/{fmt}/{quantization}"


def lookup_map(metrics: Mapping[str, Mapping[str, float]], key: tuple[str, ...]) -> float | None:
    """Return the mAP of a variant ``(model, format, quantization[, runtime])``: exact
    ``model/format/quant`` key first, then ``model``."""
    entry = metrics.get(variant_key(*key[:3])) or metrics.get(key[0])
    return float(entry["map"]) if entry and "map" in entry else None


def _variant_map(group: Sequence[Any], metrics: Mapping[str, Mapping[str, float]],
                 key: tuple[str, ...]) -> float | None:
    """The mAP the variant's reports carry (median: one artifact, one value), else the
    configured ``MODEL_METRICS`` one."""
    carried = [s.map for s in group if getattr(s, "map", None) is not None]
    return statistics.median(carried) if carried else lookup_map(metrics, key)


def pareto_flags(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Flag the points (latency, accuracy) that no other point beats on both axes.

    A point is dominated when another is at least as fast and at least as accurate, and
    strictly better on one of the two.
    """

    def dominated(p: tuple[float, float]) -> bool:
        return any(q[0] <= p[0] and q[1] >= p[1] and (q[0] < p[0] or q[1] > p[1]) for q in points)

    return [not dominated(p) for p in points]


def variants(
    samples: Iterable[Any], metrics: Mapping[str, Mapping[str, float]]
) -> list[dict[str, Any]]:
    """Summarise each model variant (model x format x quantization x runtime): median
    latency/FPS, count, mAP and Pareto membership.

    Variants without a known mAP are listed with ``map: None`` and never on the frontier.
    """
    rows = []
    for key, group in _group(samples, VARIANT_KEYS).items():
        rows.append(
            {
                **dict(zip(VARIANT_KEYS, key, strict=True)),
                "variant": variant_key(*key[:3]),
                "median_latency_ms": statistics.median(s.p50_ms for s in group),
                "median_fps": statistics.median(s.fps for s in group),
                "count": len(group),
                "devices": len({s.device for s in group}),
                "map": _variant_map(group, metrics, key),
            }
        )
    ranked = [r for r in rows if r["map"] is not None]
    flags = pareto_flags([(r["median_latency_ms"], r["map"]) for r in ranked])
    for row, flag in zip(ranked, flags, strict=True):
        row["pareto"] = flag
    for row in rows:
        row.setdefault("pareto", False)
    return sorted(rows, key=lambda r: r["median_latency_ms"])
