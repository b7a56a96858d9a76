"""Storage, run against SQLite and PostgreSQL: migrations, idempotency, queries, exports."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect

from benchmarks.example_reports import example_report, with_latency
from device_bench import migrations, store
from device_bench.db import get_engine
from device_bench.tables import metadata


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def test_migrations_create_the_current_tables(app: Flask) -> None:
    engine = get_engine(app)
    with engine.connect() as conn:
        assert migrations.applied_versions(conn) == {s.version for s in migrations.STEPS}
    inspector = inspect(engine)
    for table in metadata.tables.values():
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == set(table.columns.keys())
    assert migrations.migrate(engine) == []  # already up to date


def test_concurrent_migrations_apply_each_step_once(database_url: str) -> None:
    from device_bench.db import make_engine

    engines = [make_engine(database_url) for _ in range(3)]
    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda e=e: results.append(migrations.migrate(e)))
               for e in engines]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [[], [], [s.version for s in migrations.STEPS]]
    for engine in engines:
        engine.dispose()


def test_cli_migrate_reports_nothing_pending(runner: Any) -> None:
    result = runner.invoke(args=["bench-migrate"])
    assert result.exit_code == 0 and "applied migrations: none" in result.output


def _count(app: Flask) -> int:
    with get_engine(app).connect() as conn:
        return store.count_reports(conn)


def _post_concurrently(app: Flask, report: dict, n: int) -> list[int]:
    """POST the same report from n threads released at the same instant."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def submit() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/reports", json=report).status_code)

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_concurrent_duplicates_are_stored_once(app: Flask) -> None:
    for _ in range(3):
        assert _post_concurrently(app, example_report(), 4) == [200, 200, 200, 201]
    assert _count(app) == 3


def _submit(post: Any, device: str, p50: float, **overrides: Any) -> dict:
    report = with_latency(example_report({"device": {"name": device}, **overrides}), p50)
    assert post(report).status_code == 201
    return report


@pytest.fixture
def populated(post: Any) -> None:
    for p50 in (10.0, 20.0, 40.0):  # a full cell: medians 20 ms / 50 FPS
        _submit(post, "Pixel 7", p50)
    for p50 in (30.0, 50.0):  # a low-count cell
        _submit(post, "iPhone 15", p50, runtime={"backend": "wasm"})
    _submit(post, "iPhone 15", 5.0, page={"hidden_during_run": True})  # invalid: not ranked
    _submit(post, "iPhone 15 Pro", 25.0, model={"format": "tflite", "quantization": "int8"},
            runtime={"name": "litert", "backend": "xnnpack"})  # fmt: skip


def test_leaderboard_medians_and_low_count(populated: None, client: Any) -> None:
    body = client.get("/api/v1/leaderboard").json
    assert body["min_reports"] == 3
    cells = {(c["device"], c["backend"]): c for c in body["cells"]}
    assert set(cells) == {("Pixel 7", "webgl"), ("iPhone 15", "wasm"), ("iPhone 15 Pro", "xnnpack")}
    pixel = cells["Pixel 7", "webgl"]
    assert pixel["count"] == 3 and pixel["low_count"] is False
    assert pixel["median_fps"] == pytest.approx(50.0)
    assert pixel["p50_latency_ms"] == pytest.approx(20.0)
    assert pixel["p90_latency_ms"] == pytest.approx(23.5)  # median of the reports' p90
    iphone = cells["iPhone 15", "wasm"]
    assert iphone["count"] == 2 and iphone["low_count"] is True
    assert iphone["median_fps"] == pytest.approx((1000 / 30 + 1000 / 50) / 2)


@pytest.mark.parametrize(
    ("query", "devices"),
    [
        ("device=iphone", {"iPhone 15", "iPhone 15 Pro"}),  # case-insensitive substring
        ("backend=xnnpack", {"iPhone 15 Pro"}),
        ("format=tflite&quantization=int8", {"iPhone 15 Pro"}),
        ("model=accurate", set()),
        ("device=%25", set()),  # a literal '%' is not a wildcard
    ],
)
def test_leaderboard_filters(populated: None, client: Any, query: str, devices: set) -> None:
    cells = client.get(f"/api/v1/leaderboard?{query}").json["cells"]
    assert {c["device"] for c in cells} == devices


def test_leaderboard_csv(populated: None, client: Any) -> None:
    resp = client.get("/api/v1/leaderboard.csv?device=pixel")
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 1
    assert rows[0]["device"] == "Pixel 7" and float(rows[0]["median_fps"]) == pytest.approx(50)
    assert rows[0]["count"] == "3" and rows[0]["low_count"] == "False"


def test_reports_list_filters_and_cursor_pagination(populated: None, client: Any) -> None:
    seen, cursor = [], None
    while True:
        url = "/api/v1/reports?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7
    invalid = client.get("/api/v1/reports?valid=false").json["items"]
    assert [r["reasons"][0].split(":")[0] for r in invalid] == ["page_hidden"]
    wasm = client.get("/api/v1/reports?backend=wasm&device=IPHONE").json["items"]
    assert len(wasm) == 2


def test_reports_csv_guards_against_formulas(post: Any, client: Any) -> None:
    report = example_report({"device": {"name": '=HYPERLINK("http://x")'}})
    post(report)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/reports.csv").text)))
    assert rows[0]["report_id"] == report["report_id"]
    assert rows[0]["device"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["valid"] == "True" and float(rows[0]["p50_ms"]) == 20.0


def test_variants_and_pareto_frontier(populated: None, client: Any) -> None:
    items = {v["variant"]: v for v in client.get("/api/v1/variants").json["items"]}
    fast_tfjs, fast_int8 = items["fast/tfjs/fp16"], items["fast/tflite/int8"]
    assert fast_tfjs["map"] == 0.30 and fast_tfjs["count"] == 5 and fast_tfjs["devices"] == 2
    assert fast_int8["map"] == 0.28 and fast_int8["median_latency_ms"] == pytest.approx(25.0)
    # tfjs: median latency 30 ms, mAP .30; int8: 25 ms, .28: neither dominates the other.
    assert fast_tfjs["pareto"] and fast_int8["pareto"]


def test_engines_are_ranked_apart(post: Any, client: Any) -> None:
    """One export on one device run by two engines (Python onnxruntime, onnxruntime-web in a
    browser): two leaderboard cells, two variant points, each named by its engine."""
    onnx = {"name": "accurate", "format": "onnx", "quantization": "fp32"}
    for p50 in (10.0, 12.0, 14.0):
        _submit(post, "Laptop", p50, model=onnx,
                runtime={"name": "onnxruntime", "version": "1.32.0", "backend": "cpu"})
    for p50 in (40.0, 50.0):
        _submit(post, "Laptop", p50, model=onnx,
                runtime={"name": "ort", "version": "1.30.0", "backend": "wasm"})
    cells = client.get("/api/v1/leaderboard?device=laptop").json["cells"]
    assert [(c["runtime"], c["backend"], c["count"]) for c in cells] == [
        ("onnxruntime", "cpu", 3), ("ort", "wasm", 2)]  # fastest first
    ort = client.get("/api/v1/leaderboard?runtime=ort").json["cells"]
    assert [(c["device"], c["runtime"]) for c in ort] == [("Laptop", "ort")]
    items = client.get("/api/v1/variants?device=laptop").json["items"]
    assert [(v["variant"], v["runtime"], v["median_latency_ms"], v["map"]) for v in items] == [
        ("accurate/onnx/fp32", "onnxruntime", 12.0, 0.41),
        ("accurate/onnx/fp32", "ort", 45.0, 0.41)]  # one accuracy: the engines share the export
    assert [v["pareto"] for v in items] == [True, False]
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/leaderboard.csv?device=lap").text)))
    assert [r["runtime"] for r in rows] == ["onnxruntime", "ort"]
    listed = client.get("/api/v1/reports?runtime=ort").json["items"]
    assert len(listed) == 2 and {r["report"]["runtime"]["name"] for r in listed} == {"ort"}


def test_sqlite_connect_waits_for_a_writer_before_switching_to_wal(tmp_path) -> None:
    """A process starting while another holds a write transaction on a new database."""
    import sqlite3
    import time

    from device_bench.db import make_engine

    path = tmp_path / "bench.sqlite"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE t (x)")
    modes, errors = [], []

    def connect() -> None:
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        engine.dispose()

    thread = threading.Thread(target=connect)
    thread.start()
    time.sleep(0.3)  # the new connection meets the open transaction
    writer.execute("COMMIT")
    thread.join()
    writer.close()
    assert errors == [] and modes == ["wal"]
