"""Server-side validity of a well-formed report: is it fit to be ranked?

Each check returns reasons (``"code: detail"`` strings, the code is stable); a report with
no reason is valid. Invalid reports are still stored, so a broken backend stays visible
without polluting the leaderboard.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from device_bench.schema import Report
from sdk.bench import protocol

# A set of known sha256 hex digests, a predicate, or None (= accept any model).
KnownHashes = Collection[str] | Callable[[str], bool] | None

# No detector runs a whole image in under 0.1 ms (a tiny model on a desktop CPU takes
# about a millisecond, and browser timers tick in 0.1 ms or coarser steps): a faster
# median, zero included, is a broken or forged measurement.
MIN_PLAUSIBLE_P50_MS = 0.1
# Reports are dated by the device: before the protocol existed, or more than a day ahead
# of the server (time zones are in the timestamp, so a day covers any honest clock).
EARLIEST_CREATED_AT = datetime(2024, 1, 1, tzinfo=UTC)
MAX_CLOCK_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class Validity:
    """Whether a report may be ranked, and why not."""

    valid: bool
    reasons: tuple[str, ...]


def _percentile_reasons(report: Report) -> list[str]:
    lat = report.timing.latency_ms
    reasons = []
    if not lat.min <= lat.p50 <= lat.p90 <= lat.p99 <= lat.max:
        reasons.append(
            "percentiles_unordered: need min <= p50 <= p90 <= p99 <= max, got "
            f"{lat.min:g} / {lat.p50:g} / {lat.p90:g} / {lat.p99:g} / {lat.max:g}"
        )
    if not lat.min <= lat.mean <= lat.max:
        reasons.append(f"mean_out_of_range: mean {lat.mean:g} not within [min, max]")
    return reasons


def _plausibility_reasons(report: Report, now: datetime) -> list[str]:
    timing, reasons = report.timing, []
    if timing.latency_ms.p50 < MIN_PLAUSIBLE_P50_MS:
        reasons.append(
            f"latency_implausible: median latency {timing.latency_ms.p50:g} ms is below "
            f"{MIN_PLAUSIBLE_P50_MS:g} ms, faster than any detector runs"
        )
    if timing.fps <= 0:
        reasons.append("fps_implausible: fps must be above 0")
    created = report.created_at
    if created < EARLIEST_CREATED_AT or created > now + MAX_CLOCK_AHEAD:
        reasons.append(
            f"created_at_implausible: {created.isoformat()} is before "
            f"{EARLIEST_CREATED_AT.date()} or more than a day ahead of the server clock"
        )
    return reasons


def _fps_reasons(report: Report) -> list[str]:
    timing = report.timing
    if protocol.fps_consistent(timing.fps, timing.latency_ms.p50):
        return []
    expected = protocol.fps_from_p50(timing.latency_ms.p50)
    return [
        f"fps_inconsistent: fps {timing.fps:g} differs from 1000/p50 = {expected:.3g} "
        f"by more than {protocol.FPS_TOLERANCE:.0%}"
    ]


def _loop_reasons(report: Report) -> list[str]:
    t = report.timing
    reasons = []
    if not protocol.WARMUP.is_complete(t.warmup_runs, t.warmup_ms / 1000):
        reasons.append(
            f"warmup_too_short: {t.warmup_runs} runs in {t.warmup_ms:g} ms; protocol needs "
            f">= {protocol.WARMUP.min_runs} runs and >= {protocol.WARMUP.min_seconds:g} s"
        )
    if not protocol.MEASURE.is_complete(t.runs, t.duration_ms / 1000):
        reasons.append(
            f"loop_too_short: {t.runs} runs in {t.duration_ms:g} ms; protocol needs "
            f">= {protocol.MEASURE.min_runs} runs and >= {protocol.MEASURE.min_seconds:g} s"
        )
    # N runs that each took at least `min` cannot fit in less than N * min (5 % clock slack).
    if t.runs * t.latency_ms.min > t.duration_ms * (1 + protocol.FPS_TOLERANCE):
        reasons.append(
            f"duration_inconsistent: {t.runs} runs of >= {t.latency_ms.min:g} ms "
            f"cannot fit in {t.duration_ms:g} ms"
        )
    return reasons


def _model_reasons(report: Report, known_hashes: KnownHashes) -> list[str]:
    if known_hashes is None:
        return []
    sha = report.model.sha256
    known = known_hashes(sha) if callable(known_hashes) else sha in known_hashes
    return [] if known else [f"model_unknown: sha256 {sha[:12]}... is not a published model"]


def _accuracy_reasons(report: Report) -> list[str]:
    acc = report.accuracy
    reasons = []
    if acc.probe_images < protocol.ACCURACY_MIN_PROBES:
        reasons.append("accuracy_unchecked: no probe image was compared with the reference")
    if not acc.passed or acc.matched_fraction < protocol.ACCURACY_MIN_RECALL:
        reasons.append(
            f"accuracy_failed: {acc.matched_fraction:.0%} of reference boxes recalled, "
            f"protocol needs {protocol.ACCURACY_MIN_RECALL:.0%}"
        )
    return reasons


def _context_reasons(report: Report) -> list[str]:
    reasons = []
    if report.protocol_version != protocol.PROTOCOL_VERSION:
        reasons.append(
            f"protocol_unsupported: version {report.protocol_version}, "
            f"server ranks version {protocol.PROTOCOL_VERSION}"
        )
    if report.timing.timed != protocol.DEFAULT_TIMED:
        reasons.append(
            f"timed_not_ranked: '{report.timing.timed}' runs are stored, only "
            f"'{protocol.DEFAULT_TIMED}' runs are ranked side by side"
        )
    if report.page.hidden_during_run:
        reasons.append("page_hidden: the page was hidden during the run (throttled timers)")
    return reasons


def check(
    report: Report, known_hashes: KnownHashes = None, now: datetime | None = None
) -> Validity:
    """Run every validity check on ``report``; ``known_hashes=None`` skips the model check.

    ``now`` (default: the current time) is the server clock ``created_at`` is judged by.
    """
    reasons = [
        *_context_reasons(report),
        *_plausibility_reasons(report, now or datetime.now(UTC)),
        *_percentile_reasons(report),
        *_fps_reasons(report),
        *_loop_reasons(report),
        *_model_reasons(report, known_hashes),
        *_accuracy_reasons(report),
    ]
    return Validity(valid=not reasons, reasons=tuple(reasons))
