"""Server-side validity: each rule flags its own reason code, and only that one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from benchmarks.example_reports import EXAMPLE_SHA256, example_report, with_latency
from device_bench.schema import Report
from device_bench.validity import check


def _codes(overrides: dict[str, Any], known: Any = None) -> list[str]:
    report = Report.model_validate(example_report(overrides))
    return [reason.split(":")[0] for reason in check(report, known).reasons]


def _latency(**values: float) -> dict[str, Any]:
    return {"timing": {"latency_ms": values}}


def test_example_report_is_valid() -> None:
    report = Report.model_validate(example_report())
    assert check(report) == check(report, {EXAMPLE_SHA256})
    assert check(report).valid and check(report).reasons == ()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (_latency(p90=19.0), "percentiles_unordered"),  # p90 < p50
        (_latency(max=30.0), "percentiles_unordered"),  # max < p99
        (_latency(mean=17.0), "mean_out_of_range"),  # below min
        ({"timing": {"fps": 60.0}}, "fps_inconsistent"),  # 1000/p50 = 50
        ({"timing": {"runs": 20}}, "loop_too_short"),
        ({"timing": {"runs": 60, "duration_ms": 1500.0}}, "loop_too_short"),
        ({"timing": {"warmup_runs": 0}}, "warmup_too_short"),
        ({"timing": {"warmup_ms": 100.0}}, "warmup_too_short"),
        ({"timing": {"runs": 400}}, "duration_inconsistent"),  # 400 x 18 ms > 2.46 s
        ({"accuracy": {"passed": False}}, "accuracy_failed"),
        ({"accuracy": {"matched_fraction": 0.5}}, "accuracy_failed"),  # client said passed
        ({"page": {"hidden_during_run": True}}, "page_hidden"),
        ({"protocol_version": 2}, "protocol_unsupported"),
        ({"timing": {"timed": "invoke"}}, "timed_not_ranked"),
    ],
)
def test_each_rule_gives_its_reason(overrides: dict[str, Any], code: str) -> None:
    assert _codes(overrides) == [code]


def test_probe_free_run_is_unchecked() -> None:
    assert "accuracy_unchecked" in _codes({"accuracy": {"probe_images": 0}})


def test_slow_device_stopped_by_the_time_cap_is_valid() -> None:
    report = Report.model_validate(with_latency(example_report(), 900.0))
    assert report.timing.runs < 50
    assert check(report).valid


@pytest.mark.parametrize(
    ("known", "codes"),
    [
        (None, []),  # check disabled
        ({EXAMPLE_SHA256}, []),
        ({"0" * 64}, ["model_unknown"]),
        (lambda sha: sha.startswith("5f1e"), []),
        (lambda sha: False, ["model_unknown"]),
    ],
)
def test_model_hash_must_be_known(known: Any, codes: list[str]) -> None:
    assert _codes({}, known) == codes


ZERO = dict.fromkeys(("p50", "p90", "p99", "min", "max", "mean"), 0.0)
MICRO = dict.fromkeys(("p50", "p90", "p99", "min", "max", "mean"), 0.001)


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({"timing": {"latency_ms": ZERO, "fps": 0.0}}, ["latency_implausible", "fps_implausible"]),
        ({"timing": {"latency_ms": MICRO, "fps": 1_000_000.0}}, ["latency_implausible"]),
        ({"created_at": "0001-01-01T00:00:00Z"}, ["created_at_implausible"]),
        ({"created_at": "2023-12-31T23:00:00-02:00"}, []),  # 2024-01-01 01:00 UTC
        ({"created_at": "2099-01-01T00:00:00Z"}, ["created_at_implausible"]),
    ],
    ids=["all-zero", "p50-0.001ms", "year-1", "first-day", "far-future"],
)
def test_implausible_reports_are_not_ranked(overrides: dict[str, Any], codes: list[str]) -> None:
    assert _codes(overrides) == codes  # before: all valid


def test_created_at_is_judged_by_the_server_clock() -> None:
    report = Report.model_validate(example_report(created_at="2026-05-21T09:00:00Z"))
    assert check(report, now=datetime(2026, 5, 20, 10, tzinfo=UTC)).valid  # 23 h ahead
    late = check(report, now=datetime(2026, 5, 20, 8, tzinfo=UTC))  # 25 h ahead
    assert [r.split(":")[0] for r in late.reasons] == ["created_at_implausible"]


def test_an_implausible_report_is_stored_but_not_ranked(post: Any, client: Any) -> None:
    zero = example_report({"timing": {"latency_ms": ZERO, "fps": 0.0}})
    resp = post(zero)
    assert resp.status_code == 201 and resp.json["valid"] is False
    assert resp.json["reasons"][0].startswith("latency_implausible:")
    assert client.get(f"/api/v1/reports/{zero['report_id']}").json["valid"] is False
    assert client.get("/api/v1/leaderboard").json["cells"] == []


def test_several_problems_are_all_reported() -> None:
    codes = _codes({"page": {"hidden_during_run": True}, "timing": {"fps": 5.0}})
    assert codes == ["page_hidden", "fps_inconsistent"]
