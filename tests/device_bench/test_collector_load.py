"""``benchmarks/collector_load.py``: its payloads, its wrk result parsing, and a short run
end to end with each client (gunicorn on loopback, SQLite) that must account for every
acknowledged report."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from benchmarks import collector_load
from device_bench.schema import Report


def test_spliced_bodies_are_valid_reports_with_distinct_ids() -> None:
    head, tail = collector_load.body_template()
    ids = {collector_load.report_id("0badcafe", stream, n) for stream in (0, 7) for n in (1, 2)}
    assert len(ids) == 4
    for rid in ids:
        report = Report.model_validate_json(head + rid.encode() + tail)
        assert str(report.report_id) == rid  # canonical form: the server answers this id


def test_wrk_script_has_no_unfilled_slot(tmp_path: Any) -> None:
    script = collector_load._wrk_script("0badcafe", 10, 2, str(tmp_path))
    assert "{{" not in script and '"0badcafe"' in script


def test_parse_wrk_results() -> None:
    text = "\n".join([
        "latency_us 2500 48000 91000 40",
        "socket_errors 0 0 0 1",
        "thread 21 0 100.000000 104.000000",
        "status 503 1",
        "acked 0badcafe-0000-4000-8000-000000000001",
        "thread 20 1 100.500000 105.000000",
        "acked 0badcafe-0001-4000-8000-000000000001",
    ])  # fmt: skip
    seen = collector_load._parse_wrk(text)
    assert seen.sent == 41 and seen.duplicates == 1 and len(seen.acked_ids) == 2
    assert seen.errors == {"503": 1, "timeout": 1}
    assert seen.wall_s == pytest.approx(5.0)
    assert seen.latency_ms == {"p50": 2.5, "p99": 48.0, "max": 91.0}


@pytest.mark.parametrize(
    ("client", "worker"),
    [
        ("python", "gthread"),
        ("python", "asgi"),  # the deployment for many devices (device_bench.asgi)
        pytest.param("wrk", "gthread",
                     marks=pytest.mark.skipif(not shutil.which("wrk"), reason="no wrk")),
    ],
)  # fmt: skip
def test_short_run_accounts_for_every_report(client: str, worker: str, capsys: Any) -> None:
    argv = ["--reports", "300", "--connections", "4", "--server-threads", "2",
            "--max-seconds", "60", "--client", client, "--json"]  # fmt: skip
    assert collector_load.main(argv + (["--asgi"] if worker == "asgi" else [])) == 0
    figures = json.loads(capsys.readouterr().out)
    # wrk may take a few answers past the count (other connections of the stopping thread)
    assert 300 <= figures["acknowledged"] <= figures["sent"] <= 300 + 4
    assert figures["acknowledged_and_stored"] == figures["acknowledged"]
    assert figures["lost"] == 0 and figures["doubled"] == 0 and figures["errors"] == {}
    assert figures["stored_unacknowledged"] <= figures["sent"] - figures["acknowledged"]
    assert figures["accepted_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["server_cpu_ms_per_request"] > 0
