"""A report acknowledged with 201 survives a crash: SIGKILL gunicorn mid-stream, restart.

Runs the real server (gunicorn, 2 workers) against SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import CollectorClient, GunicornServer

NO_RATE_LIMIT = {  # the check reads every acknowledged report back: no read limit either
    "DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0",
    "DEVICE_BENCH_READ_RATE_LIMIT_PER_MINUTE": "0",
}
KILL_AFTER_ACKS = 150


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def _stream(port: int, acked: list[str], lock: threading.Lock) -> None:
    """Post reports until the server disappears; record every id answered with 201."""
    client = CollectorClient(port, timeout_s=5)
    while True:
        report = example_report()
        try:
            status, _ = client.post_report(report)
        except OSError:
            return
        if status == 201:
            with lock:
                acked.append(report["report_id"])


def _kill_mid_stream(server: GunicornServer) -> list[str]:
    acked: list[str] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_stream, args=(server.port, acked, lock)) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < KILL_AFTER_ACKS and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # while the three clients are still submitting
    for t in threads:
        t.join(timeout=10)
    return acked


def test_acknowledged_reports_survive_sigkill(database_url: str, tmp_path: Path) -> None:
    log = str(tmp_path / "gunicorn.log")
    server = GunicornServer(database_url, workers=2, env=NO_RATE_LIMIT, log_path=log).start()
    acked = _kill_mid_stream(server)
    assert len(acked) >= KILL_AFTER_ACKS, Path(log).read_text()[-2000:]

    with GunicornServer(database_url, workers=1, env=NO_RATE_LIMIT, log_path=log) as restarted:
        client = CollectorClient(restarted.port)
        missing = [i for i in acked if client.request("GET", f"/api/v1/reports/{i}")[0] != 200]
        client.close()
    assert missing == [], f"{len(missing)} of {len(acked)} acknowledged reports lost"
