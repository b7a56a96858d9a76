"""Query-string and response models of ``/api/v1`` (the request body is :class:`Report`).

They validate query strings and feed the OpenAPI document; tests validate real responses
against them so the document cannot drift from what the server sends.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from device_bench.schema import ModelFormat, PlainText, Report

# Control and format characters are refused as in reports (a NUL cannot even be sent to
# PostgreSQL): such a filter can match nothing, and a 400 says why.
_Filter = Annotated[str, Field(min_length=1, max_length=200), PlainText]
MAX_SEQ = 2**63 - 1  # the largest value of the BIGINT/INTEGER keys of both databases


class ReportFilters(BaseModel):
    """Filters shared by the reports list, the leaderboard and the variants summary."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    device: _Filter | None = Field(None, description="Case-insensitive substring of the name.")
    model: _Filter | None = None
    format: ModelFormat | None = None
    quantization: _Filter | None = None
    runtime: _Filter | None = Field(None, description="The engine: tfjs, litert, ort, ...")
    backend: _Filter | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set."""
        return self.model_dump(exclude_none=True)


class ReportQuery(ReportFilters):
    """``GET /reports``: filters plus keyset pagination, newest first."""

    valid: bool | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[int, Field(ge=1, le=MAX_SEQ)] | None = Field(
        None, description="The next_cursor of the previous page."
    )

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set (not the pagination)."""
        return self.model_dump(exclude_none=True, exclude={"limit", "cursor"})


class LeaderboardQuery(ReportFilters):
    """``GET /leaderboard``: filters plus offset pagination over the ranked cells."""

    limit: Annotated[int, Field(ge=1, le=5000)] = 500
    offset: Annotated[int, Field(ge=0, le=MAX_SEQ)] = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the filters that are set (not the pagination)."""
        return self.model_dump(exclude_none=True, exclude={"limit", "offset"})


class SubmitResponse(BaseModel):
    """Answer to a submission: 201 when stored now, 200 when the id was already stored."""

    id: str
    valid: bool
    reasons: list[str]


class ReportRecord(BaseModel):
    """A stored report with the server's verdict."""

    id: str
    received_at: str = Field(description="Server time, ISO 8601 UTC.")
    valid: bool
    reasons: list[str]
    report: Report


class ReportPage(BaseModel):
    """One page of reports; pass ``next_cursor`` as ``cursor`` to get the next one."""

    items: list[ReportRecord]
    next_cursor: int | None


class LeaderboardCell(BaseModel):
    """Medians of the valid reports of one device x model x format x quantization x runtime x
    backend."""

    device: str
    model: str
    format: str
    quantization: str
    runtime: str = Field(description="The engine that ran the model (tfjs, litert, ort, ...).")
    backend: str
    median_fps: float
    p50_latency_ms: float
    p90_latency_ms: float = Field(description="Median of the reports' p90 latency.")
    count: int
    low_count: bool = Field(description="Fewer reports than min_reports: treat with care.")


class Leaderboard(BaseModel):
    """One page of the ranked cells (valid reports only), sorted by device then speed."""

    min_reports: int
    cells: list[LeaderboardCell]
    total: int = Field(description="Cells matching the filters, on every page.")
    next_offset: int | None = Field(description="The offset of the next page, if any.")


class VariantPoint(BaseModel):
    """A model variant on one engine over all matching devices: speed, accuracy, Pareto
    membership."""

    model: str
    format: str
    quantization: str
    runtime: str = Field(description="The engine that ran the model (tfjs, litert, ort, ...).")
    variant: str = Field(description="model/format/quantization: the MODEL_METRICS key.")
    median_latency_ms: float
    median_fps: float
    count: int
    devices: int
    map: float | None
    pareto: bool


class Variants(BaseModel):
    """Speed/accuracy summary of the model variants."""

    items: list[VariantPoint]


class Status(BaseModel):
    """Answer of the liveness and readiness checks."""

    status: Literal["alive", "ready"]


class FieldError(BaseModel):
    """One problem with one field (``loc`` is dotted, e.g. ``timing.latency_ms.p50``)."""

    loc: str
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Body of every error response."""

    error: str
    message: str
    details: list[FieldError] = Field(description="The problems found (the first ones only).")
    details_omitted: int = Field(0, description="How many more problems were not listed.")
