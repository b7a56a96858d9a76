"""Hostile query strings and report-id paths get 400 or 404, never 500, on SQLite and
PostgreSQL: integers beyond 64 bits, NUL and other control characters, arbitrary text."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.db import shutdown
from tests.device_bench.conftest import PG_SKIP_REASON, _postgres_schema_url

URL = "/api/v1/reports"
READS = (URL, f"{URL}.csv", "/api/v1/leaderboard", "/api/v1/leaderboard.csv", "/api/v1/variants")
FILTERS = ("device", "model", "quantization", "runtime", "backend")


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.mark.parametrize("path", [URL, f"{URL}.csv"])
@pytest.mark.parametrize("cursor", [2**63, 2**64 + 1, 10**30])
def test_a_cursor_beyond_64_bits_is_400(client: Any, path: str, cursor: int) -> None:
    resp = client.get(f"{path}?cursor={cursor}")  # before: 500 (an overflow in the driver)
    assert resp.status_code == 400, resp.data[:300]
    assert resp.json["error"] == "invalid_query" and resp.json["details"][0]["loc"] == "cursor"


def test_the_largest_cursor_is_fine(post: Any, client: Any) -> None:
    post(example_report())
    page = client.get(f"{URL}?cursor={2**63 - 1}").json
    assert len(page["items"]) == 1


def test_control_characters_in_filters_are_400(client: Any) -> None:
    for path in READS:
        for name in FILTERS:
            for char in ("\x00", "\x1b", "\u202e"):
                query = urllib.parse.urlencode({name: f"a{char}b"})
                resp = client.get(f"{path}?{query}")  # before, on PostgreSQL: 500 for a NUL
                assert resp.status_code == 400, (path, name, char, resp.data[:300])
                assert resp.json["details"][0]["loc"] == name


@pytest.mark.parametrize(
    "report_id",
    ["a%00b", "%00", "00000000-0000-4000-8000-00000000000%00", "x" * 5000, "%E2%80%AE", ".."],
    ids=["nul-inside", "nul", "uuid-and-nul", "long", "bidi-override", "dots"],
)
def test_a_malformed_report_id_is_404(client: Any, report_id: str) -> None:
    resp = client.get(f"{URL}/{report_id}")  # before, on PostgreSQL: 500 for a NUL
    assert resp.status_code == 404, resp.data[:300]
    assert resp.json["error"] == "not_found" and len(resp.data) < 500


def test_a_report_id_in_another_spelling_is_found(post: Any, client: Any) -> None:
    report = example_report()
    post(report)
    upper = report["report_id"].upper()
    assert client.get(f"{URL}/{upper}").json["id"] == report["report_id"]
    assert client.get(f"{URL}/{{{report['report_id']}}}").status_code == 200  # {braced}


def test_the_dashboard_ignores_a_malformed_filter(client: Any) -> None:
    assert client.get("/bench/?device=%00&page=99999999999999999999999").status_code == 200


# Fuzzing: any text (NUL, surrogates' UTF-8 neighbours, huge numbers) in any parameter.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
PARAMS = (*FILTERS, "format", "valid", "limit", "cursor", "offset", "page")
values = st.text(max_size=30) | st.integers(-(2**80), 2**80).map(str)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One collector per database for all fuzz examples, with a few reports stored."""
    urls: Iterator[str]
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{tmp_path_factory.mktemp('fuzzq') / 'bench.sqlite'}"])
    else:
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:
            pytest.skip(PG_SKIP_REASON)
        urls = _postgres_schema_url(base)
    url = next(urls)
    app = create_app({
        "TESTING": True, "DATABASE_URL": url,
        "RATE_LIMIT_PER_MINUTE": 0, "READ_RATE_LIMIT_PER_MINUTE": 0,
    })  # fmt: skip
    for name in ("Pixel 7", "iPhone 15"):
        app.test_client().post(URL, json=example_report({"device": {"name": name}}))
    yield app
    shutdown(app)
    next(urls, None)  # drop the PostgreSQL schema


@FUZZ
@given(
    path=st.sampled_from((*READS, "/bench/")),
    query=st.dictionaries(st.sampled_from(PARAMS), values, max_size=4),
)
def test_fuzzed_queries_never_500(fuzz_app: Flask, path: str, query: dict[str, str]) -> None:
    resp = fuzz_app.test_client().get(f"{path}?{urllib.parse.urlencode(query)}")
    assert resp.status_code in (200, 400), (path, query, resp.status_code, resp.data[:300])


@FUZZ
@given(report_id=st.text(min_size=1, max_size=60))
def test_fuzzed_report_ids_never_500(fuzz_app: Flask, report_id: str) -> None:
    resp = fuzz_app.test_client().get(f"{URL}/{urllib.parse.quote(report_id, safe='')}")
    assert resp.status_code in (200, 404, 308), (report_id, resp.status_code, resp.data[:300])
