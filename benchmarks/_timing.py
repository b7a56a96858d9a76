"""Interleaved timing loops shared by the benchmark scripts.

Machines here are shared and noisy, so contenders are never timed one after the other:
they alternate (call by call, or in blocks of calls) so that a slow moment hits all of
them alike, and the figure to trust is their ratio (docs/DESIGN.md section 6).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

WARMUP = 3  # untimed calls first: XNNPACK packs weights and allocates on the first runs


def time_ms(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter,
            ) -> float:
    """Milliseconds of one call of ``fn`` on ``clock`` (default: wall time)."""
    start = clock()
    fn()
    return (clock() - start) * 1000


def interleaved(contenders: Mapping[str, Callable[[], object]], runs: int, warmup: int,
                after: Callable[[str], None] | None = None,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Call each contender once per round, order flipped every round; ms per call.

    ``after(name)`` runs untimed after each timed call (e.g. to keep its stage timings).
    ``clock`` may be ``time.thread_time`` for single-threaded contenders on a loaded
    machine: the CPU time of the calling thread leaves out the time it waited for a core.
    """
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    order = list(contenders)
    for r in range(runs):
        for name in order if r % 2 == 0 else order[::-1]:
            samples[name].append(time_ms(contenders[name], clock))
            if after is not None:
                after(name)
    return samples


def detector_rounds(detectors: Mapping[str, Any], image: Any, rounds: int,
                    per_round: int) -> dict[str, list[float]]:
    """Inference + readback ms of ``sdk`` detectors, ``per_round`` calls each per round.

    The starting detector rotates every round. The time is the detector's own
    ``last_timings`` (invoke and output readback), so pre- and post-processing, which do
    not depend on the model variant, stay out of the comparison.
    """
    for det in detectors.values():
        for _ in range(WARMUP):
            det.detect_arrays(image)
    names = list(detectors)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            det = detectors[name]
            for _ in range(per_round):
                det.detect_arrays(image)
                samples[name].append(det.last_timings.inference + det.last_timings.readback)
    return samples
