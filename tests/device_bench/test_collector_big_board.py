"""Reads stay bounded however much is stored: 20,000 devices make a page of 100 rows (the
dashboard) or 500 cells (the JSON leaderboard), the aggregates are cached briefly, and a
client reading in a loop gets 429 + ``Retry-After`` from its own read bucket.

The devices are bulk-inserted into the database (rows copied from one real submission),
not submitted one by one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.aggregate_cache import AggregateCache
from device_bench.db import get_engine, shutdown
from device_bench.tables import reports

DEVICES = 20_000


def _bulk_insert_devices(app: Flask, count: int, prefix: str = "Device") -> None:
    """Copy the one stored report's row ``count`` times, each with its own device name."""
    engine = get_engine(app)
    with engine.begin() as conn:
        template = dict(conn.execute(select(reports).limit(1)).mappings().one())
        del template["seq"]
        rows = [
            {**template, "report_id": str(uuid.uuid4()), "device_name": f"{prefix} {i:05d}"}
            for i in range(count)
        ]
        conn.execute(reports.insert(), rows)


@pytest.fixture(scope="module")
def big_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A collector holding one submitted report and 20,000 more devices."""
    path = tmp_path_factory.mktemp("big") / "bench.sqlite"
    app = create_app({
        "TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
        "RATE_LIMIT_PER_MINUTE": 0, "READ_RATE_LIMIT_PER_MINUTE": 0,
    })  # fmt: skip
    assert app.test_client().post("/api/v1/reports", json=example_report()).status_code == 201
    _bulk_insert_devices(app, DEVICES)
    yield app
    shutdown(app)


def _table_devices(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr[^>]*>\s*<td[^>]*>([^<]*)</td>", body)


def test_the_dashboard_page_is_bounded(big_app: Flask) -> None:
    client = big_app.test_client()
    resp = client.get("/bench/")
    assert resp.status_code == 200
    assert len(resp.data) < 250_000, len(resp.data)  # before: 10.8 MB, every device
    html = resp.text
    assert len(_table_devices(html)) == 100
    assert html.count("<option value=") < 250  # the device suggestions are capped too
    assert f"Rows 1–100 of {DEVICES + 1}" in html
    next_link = re.search(r'href="([^"]*page=2[^"]*)" rel="next"', html)
    assert next_link, "no link to the next page"
    second = client.get(next_link.group(1).replace("&amp;", "&")).text
    assert "Rows 101–200" in second
    assert set(_table_devices(second)).isdisjoint(_table_devices(html))
    last = client.get("/bench/?page=999999").text  # past the end: the last page
    assert f"Rows 20001–{DEVICES + 1} of {DEVICES + 1}" in last


def test_filters_keep_working_on_a_big_board(big_app: Flask) -> None:
    html = big_app.test_client().get("/bench/?device=Device%2012345").text
    assert _table_devices(html) == ["Device 12345"]
    assert "Rows" not in html  # a single page: no page navigation


def test_the_json_leaderboard_is_paginated(big_app: Flask) -> None:
    client = big_app.test_client()
    first = client.get("/api/v1/leaderboard").json
    assert len(first["cells"]) == 500 and first["total"] == DEVICES + 1
    assert first["next_offset"] == 500
    last = client.get(f"/api/v1/leaderboard?offset={DEVICES}&limit=50").json
    assert len(last["cells"]) == 1 and last["next_offset"] is None
    assert client.get("/api/v1/leaderboard?limit=0").status_code == 400


def test_aggregates_are_cached_until_this_process_stores_a_report(
    app: Flask, client: Any, post: Any
) -> None:
    assert post(example_report()).status_code == 201
    assert client.get("/api/v1/leaderboard").json["total"] == 1
    _bulk_insert_devices(app, 5, prefix="Elsewhere")  # as another worker would store them
    assert client.get("/api/v1/leaderboard").json["total"] == 1  # cached
    assert post(example_report({"device": {"name": "Here"}})).status_code == 201
    assert client.get("/api/v1/leaderboard").json["total"] == 7  # this worker's write: fresh


def test_cached_aggregates_expire() -> None:
    now = [0.0]
    cache = AggregateCache(ttl_s=5.0, clock=lambda: now[0])
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.get("cells", compute) == 1
    now[0] = 4.9
    assert cache.get("cells", compute) == 1
    now[0] = 5.1
    assert cache.get("cells", compute) == 2
    cache.invalidate()
    assert cache.get("cells", compute) == 3
    assert AggregateCache(ttl_s=0).get("x", compute) == 4  # off: always computed


@pytest.fixture
def read_limited_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(READ_RATE_LIMIT_PER_MINUTE=60, READ_RATE_LIMIT_BURST=3)
    return app_config


def test_reads_beyond_the_limit_get_429(read_limited_config: Any, client: Any, post: Any) -> None:
    paths = ["/api/v1/reports", "/bench/", "/api/v1/leaderboard"]
    assert [client.get(p).status_code for p in paths] == [200, 200, 200]
    for path in (*paths, "/api/v1/variants", "/api/v1/reports.csv"):
        resp = client.get(path)  # before: no read limit at all
        assert resp.status_code == 429, path
        assert resp.json["error"] == "rate_limited" and int(resp.headers["Retry-After"]) >= 1
    other = client.get("/api/v1/reports", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other.status_code == 200  # per client
    assert post(example_report()).status_code == 201  # submissions have their own bucket
    assert client.get("/api/v1/live").status_code == 200  # liveness is never limited
    static = client.get("/bench/static/dashboard.css")
    assert static.status_code == 200  # nor are the page's assets
    static.close()
