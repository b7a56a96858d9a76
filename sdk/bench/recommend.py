"""Answer the question the collector exists for: which model variant to deploy on a device."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class RecommendError(RuntimeError):
    """The collector could not be reached or answered something unusable."""


@dataclass(frozen=True)
class Recommendation:
    """The chosen variant and the evidence behind it."""

    variant: str
    map: float
    median_fps: float
    reports: int
    devices: int
    considered: int  # variants with collected speed and a known mAP


def fetch_variants(server: str, device: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """GET ``/api/v1/variants?device=...`` from a collector."""
    url = f"{server.rstrip('/')}/api/v1/variants?" + urllib.parse.urlencode({"device": device})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - user's URL
            return json.loads(resp.read())["items"]
    except (OSError, ValueError, KeyError) as exc:
        raise RecommendError(f"{url}: cannot read variants ({exc})") from exc


def pick(variants: Sequence[dict[str, Any]], min_fps: float) -> Recommendation | None:
    """Most accurate variant (by measured mAP) whose median FPS meets ``min_fps``.

    Ties on mAP go to the faster variant. Returns None when nothing meets the budget.
    """
    known = [v for v in variants if v.get("map") is not None]
    fast_enough = [v for v in known if v["median_fps"] >= min_fps]
    if not fast_enough:
        return None
    best = max(fast_enough, key=lambda v: (v["map"], v["median_fps"]))
    return Recommendation(best["variant"], best["map"], best["median_fps"], best["count"],
                          best["devices"], len(known))
