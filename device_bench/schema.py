"""Report schema v1: what a device sends to ``POST /api/v1/reports``.

Strict on purpose: unknown fields, wrong types (no ``"12"`` for 12), NaN/inf, negative
times, oversized strings and lists are rejected with a field-level error, so anything
stored is well formed. Whether a well-formed report is *valid* (rankable) is decided
afterwards by :mod:`device_bench.validity`.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictStr,
)

from sdk.bench.protocol import DEFAULT_TIMED, TIMED_MODES

SCHEMA_VERSION = 1

# Bounds that keep one report small (a whole report is a few hundred bytes) without
# rejecting anything a real device would send.
MAX_MS = 86_400_000.0  # one day
MAX_RUNS = 1_000_000

# Numbers and flags are strict (no "12" for 12, no "yes" for true); UUID, datetime and the
# input-size pair parse from their JSON forms.
Ms = Annotated[float, Strict(), Field(ge=0, le=MAX_MS, allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_RUNS)]
Fraction = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Ident = Annotated[StrictStr, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.+-]*$")]

# Characters free text must not hold: controls (NUL, ESC sequences), format characters
# (bidi overrides and isolates U+202A-202E/U+2066-2069, zero-width U+200B-200D, U+FEFF...),
# lone surrogates and line/paragraph separators. They reorder or hide what a reader of the
# leaderboard or a CSV sees, and PostgreSQL cannot store a NUL at all.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _refuse_hidden(value: str, allowed: str = "") -> str:
    if value.isprintable():  # the usual case, at C speed: no control/format/separator
        return value
    for i, char in enumerate(value):
        if unicodedata.category(char) in _REFUSED_CATEGORIES and char not in allowed:
            raise ValueError(
                f"control or format character U+{ord(char):04X} at position {i} is not allowed"
            )
    return value


def _normalized(value: str) -> str:
    """NFC, trimmed, runs of white space (any, e.g. NBSP) as one space: one name, one key."""
    return " ".join(unicodedata.normalize("NFC", _refuse_hidden(value)).split())


def _required_name(value: str) -> str:
    value = _normalized(value)
    if not value:
        raise ValueError("must not be blank")
    return value


# Free text (checked) and names (checked and normalized; Name must not be blank).
PlainText = AfterValidator(_refuse_hidden)
MultilineText = AfterValidator(lambda value: _refuse_hidden(value, allowed="\n\t"))
Normalized = AfterValidator(_normalized)
Name = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_required_name)]
Text = Annotated[StrictStr, Field(max_length=1000), PlainText]
Pixels = Annotated[int, Strict(), Field(ge=1, le=8192)]
Cpus = Annotated[int, Strict(), Field(ge=0, le=4096)]
ModelFormat = Literal["tfjs", "tflite", "onnx", "coreml", "savedmodel"]
TimedMode = Literal[TIMED_MODES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    """Base for every report part: no extra keys, no NaN, immutable."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Device(_Strict):
    """The device as the client sees it (all but ``name`` may be unknown to a browser)."""

    name: Name
    user_agent: Text | None = None
    platform: Annotated[StrictStr, Field(max_length=100), Normalized] | None = None
    cores: Cpus | None = None
    memory_gb: Annotated[float, Strict(), Field(ge=0, le=65536, allow_inf_nan=False)] | None = None


class Runtime(_Strict):
    """The inference runtime and what it actually enabled (not what was asked for)."""

    name: Ident  # tfjs, litert, coreml, ...
    version: Annotated[StrictStr, Field(max_length=40), PlainText] | None = None
    backend: Ident  # webgl, wasm, webgpu, cpu, xnnpack, ...
    threads: Cpus | None = None
    simd: StrictBool | None = None
    secure_context: StrictBool | None = None
    cross_origin_isolated: StrictBool | None = None
    gpu_renderer: Annotated[StrictStr, Field(max_length=300), Normalized] | None = None


class Model(_Strict):
    """The model variant under test; ``sha256`` identifies the exact artifact."""

    # "fast", "accurate" or custom
    name: Annotated[StrictStr, Field(min_length=1, max_length=100), AfterValidator(_required_name)]
    format: ModelFormat
    quantization: Ident  # fp32, fp16, int8, dynamic, ...
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    input_size: tuple[Pixels, Pixels]  # (height, width)
    # mAP@[.5:.95] (0..1) of this variant from its detector.json: the artifact's own, measured
    # at export ("artifact"), or its source model's card value ("source"). The speed/accuracy
    # frontier and `sdk recommend` use it.
    map: Fraction | None = None
    map_basis: Literal["artifact", "source"] | None = None


class LatencyStats(_Strict):
    """Distribution of the measured per-run latency, in milliseconds."""

    p50: Ms
    p90: Ms
    p99: Ms
    min: Ms
    max: Ms
    mean: Ms


class StageTimes(_Strict):
    """Median time of each stage, in milliseconds (readback forces device sync)."""

    preprocess: Ms
    inference: Ms
    readback: Ms
    postprocess: Ms


class Timing(_Strict):
    """Load, first inference, warm-up and the measured loop, timed separately."""

    load_ms: Ms
    first_inference_ms: Ms
    warmup_runs: Count
    warmup_ms: Ms
    runs: Count
    duration_ms: Ms
    latency_ms: LatencyStats
    stages_ms: StageTimes
    fps: Annotated[float, Strict(), Field(ge=0, le=1_000_000, allow_inf_nan=False)]
    timed: TimedMode = DEFAULT_TIMED


class Accuracy(_Strict):
    """Accuracy fingerprint on the probe images against the fp32 reference."""

    probe_images: Annotated[int, Strict(), Field(ge=0, le=10_000)]
    matched_fraction: Fraction
    passed: StrictBool
    max_score_delta: Fraction


class Page(_Strict):
    """Browser page state; a run on a hidden page was throttled and is not comparable."""

    hidden_during_run: StrictBool = False


class Report(_Strict):
    """One benchmark run of one model variant on one device (schema v1).

    ``report_id`` is chosen by the client and is the idempotency key: resubmitting the
    same report never stores it twice.
    """

    report_id: UUID
    protocol_version: Annotated[int, Strict(), Field(ge=1, le=1000)]
    created_at: AwareDatetime
    device: Device
    runtime: Runtime
    model: Model
    timing: Timing
    accuracy: Accuracy
    page: Page = Page()
    notes: Annotated[StrictStr, Field(max_length=2000), MultilineText] | None = None
