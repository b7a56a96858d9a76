"""Answer the question the collector exists for: which model variant to deploy on a device.

The answer needs three things: valid reports from devices matching the name, variants
whose accuracy (mAP) is known, and one of those fast enough. When one is missing,
:func:`explain` says which, and what the best candidate would have been.
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RecommendError(RuntimeError):
    """The collector could not be reached or answered something unusable."""


@dataclass(frozen=True)
class Recommendation:
    """The chosen variant and the evidence behind it: which export (``variant``,
    model/format/quantization) to run on which engine (``runtime``: tfjs, litert, ort, ...)."""

    variant: str
    format: str | None
    quantization: str | None
    runtime: str | None  # None from a collector that predates the engine dimension
    map: float
    median_fps: float
    reports: int
    devices: int
    considered: int  # variants with collected speed and a known mAP


class Failure(StrEnum):
    """Which condition of a recommendation failed (its value is what ``--json`` shows)."""

    NO_REPORTS = "no_reports"  # no valid report from a matching device
    NO_ACCURACY = "no_accuracy"  # reports, but no variant with a known mAP
    TOO_SLOW = "too_slow"  # known mAPs, but none reaches the FPS budget


@dataclass(frozen=True)
class Explanation:
    """Why there is no recommendation, and the variant that came closest.

    Attributes:
        failed: The condition that failed.
        message: One paragraph a person reads: the condition, the numbers, what to do.
        candidate: The best candidate (a variants row of the collector), None when there
            is no report at all.
    """

    failed: Failure
    message: str
    candidate: dict[str, Any] | None


def _get_json(url: str, timeout: float, cafile: str | None) -> Any:
    # cafile: a collector serving a self-signed certificate (sdk serve's demo-cert.pem)
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(url, timeout=timeout,  # noqa: S310 - user's URL
                                    context=context) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise RecommendError(f"{url}: cannot read variants ({exc})") from exc


def fetch_variants(server: str, device: str, timeout: float = 10.0,
                   cafile: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
    """GET ``/api/v1/variants?device=...`` from a collector (``cafile``: the PEM certificate
    to trust for an HTTPS server with a self-signed one; ``model``: only that model's
    variants, e.g. when models were evaluated on different datasets)."""
    query = {"device": device, **({"model": model} if model else {})}
    url = f"{server.rstrip('/')}/api/v1/variants?" + urllib.parse.urlencode(query)
    try:
        return _get_json(url, timeout, cafile)["items"]
    except (KeyError, TypeError) as exc:
        raise RecommendError(f"{url}: cannot read variants (no 'items': {exc})") from exc


def fetch_devices(server: str, timeout: float = 10.0, cafile: str | None = None) -> list[str]:
    """Device names with valid reports (the first leaderboard page; [] when unavailable)."""
    url = f"{server.rstrip('/')}/api/v1/leaderboard"
    try:
        cells = _get_json(url, timeout, cafile).get("cells", [])
    except (RecommendError, AttributeError):
        return []
    return sorted({c["device"] for c in cells if isinstance(c, dict) and "device" in c},
                  key=str.lower)


def pick(variants: Sequence[dict[str, Any]], min_fps: float) -> Recommendation | None:
    """Most accurate variant (by mAP) whose median FPS meets ``min_fps``.

    Ties on mAP go to the faster variant. Returns None when nothing meets the budget.
    """
    known = [v for v in variants if v.get("map") is not None]
    fast_enough = [v for v in known if v["median_fps"] >= min_fps]
    if not fast_enough:
        return None
    best = max(fast_enough, key=lambda v: (v["map"], v["median_fps"]))
    return Recommendation(best["variant"], best.get("format"), best.get("quantization"),
                          best.get("runtime"), best["map"], best["median_fps"], best["count"],
                          best["devices"], len(known))


def _fps(row: dict[str, Any]) -> str:
    return f"{row['median_fps']:.1f} FPS"


def _named(row: dict[str, Any]) -> str:
    """A variants row as a person reads it: ``fast/tflite/int8 on litert``."""
    return f"{row['variant']} on {row['runtime']}" if row.get("runtime") else row["variant"]


def explain(variants: Sequence[dict[str, Any]], min_fps: float, device: str,
            devices: Sequence[str] = ()) -> Explanation:
    """Why :func:`pick` found nothing for ``variants`` (the collector's rows for ``device``).

    ``devices`` are the device names the collector has reports from (named when none
    matches).
    """
    if not variants:
        known = (f" Devices with reports: {', '.join(devices[:10])}"
                 f"{' ...' if len(devices) > 10 else ''}." if devices else "")
        return Explanation(
            Failure.NO_REPORTS,
            f"no valid benchmark report from a device matching {device!r}.{known} Run the "
            f"benchmark on that device first (the demo's Run benchmark button, or 'sdk bench "
            f"--submit URL' on it).", None)
    known = [v for v in variants if v.get("map") is not None]
    if not known:
        fastest = max(variants, key=lambda v: v["median_fps"])
        return Explanation(
            Failure.NO_ACCURACY,
            f"{len(variants)} variant(s) have reports on devices matching {device!r}, but "
            f"none has a known mAP (exports made before the sdk recorded it, or reports that "
            f"do not carry it): re-export ('make demo' or 'sdk export') and run the benchmark "
            f"again. The fastest was {_named(fastest)} at {_fps(fastest)}"
            f"{'' if fastest['median_fps'] >= min_fps else f' (below {min_fps:g} FPS)'}.",
            fastest)
    fastest = max(known, key=lambda v: (v["median_fps"], v["map"]))
    unknown_fast = [_named(v) for v in variants
                    if v.get("map") is None and v["median_fps"] >= min_fps]
    also = (f" {', '.join(unknown_fast)} reach(es) it, but without a known mAP."
            if unknown_fast else "")
    return Explanation(
        Failure.TOO_SLOW,
        f"no variant with a known mAP reaches {min_fps:g} FPS on devices matching "
        f"{device!r}: the fastest, {_named(fastest)} (mAP {fastest['map']:.3f}), runs at "
        f"{_fps(fastest)}.{also} Lower --min-fps to {fastest['median_fps']:.1f} or less, or "
        f"benchmark a smaller quantization.", fastest)
