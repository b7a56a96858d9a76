"""Load test of the report collector on loopback: sustained accepted reports/s and latency.

Starts gunicorn with the collector (SQLite in a temp dir by default, ``--database-url``
for PostgreSQL), fires ``--reports`` distinct reports from ``--procs`` client processes x
``--threads`` keep-alive connections, stops at ``--max-seconds``, and checks that the
database holds exactly the acknowledged reports (nothing lost, nothing doubled).

    python benchmarks/collector_load.py --reports 5000
    python benchmarks/collector_load.py --database-url postgresql+psycopg://u:p@127.0.0.1/db

Bounded in count and time; binds 127.0.0.1 only. Rate limiting is turned off for the run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as-is

from sqlalchemy import func, select  # noqa: E402

from device_bench.db import make_engine  # noqa: E402
from device_bench.examples import example_report  # noqa: E402
from device_bench.loopback import CollectorClient, GunicornServer  # noqa: E402
from device_bench.tables import reports  # noqa: E402


@dataclass
class ClientResult:
    """What one client process saw."""

    acked_ids: list[str] = field(default_factory=list)
    duplicates: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time spent sending (payloads are built before the clock starts)


def _send_all(
    port: int, reports: list[tuple[str, bytes]], deadline: float, result: ClientResult
) -> None:
    """Post reports one after another on one keep-alive connection until done or deadline."""
    client = CollectorClient(port)
    for report_id, body in reports:
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        try:
            status, _ = client.request("POST", "/api/v1/reports", body)
        except OSError as exc:
            status = type(exc).__name__
        elapsed = (time.perf_counter() - start) * 1000
        if status == 201:  # list.append is atomic under the GIL
            result.acked_ids.append(report_id)
            result.latencies_ms.append(elapsed)
        elif status == 200:
            result.duplicates += 1
        else:
            result.errors[str(status)] = result.errors.get(str(status), 0) + 1
    client.close()


def _client_process(port: int, count: int, threads: int, start_at: float, max_s: float) -> Any:
    """Prepare ``count`` reports, wait for the common start, send them from ``threads``."""
    reports = [example_report() for _ in range(count)]
    bodies = [(r["report_id"], json.dumps(r).encode()) for r in reports]
    result = ClientResult()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_start = time.process_time()
    deadline = time.monotonic() + max_s
    workers = [
        threading.Thread(target=_send_all, args=(port, bodies[i::threads], deadline, result))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    result.cpu_s = time.process_time() - cpu_start
    return result


def _group_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and its workers."""
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total_ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return total_ticks / os.sysconf("SC_CLK_TCK")


def _count_stored(database_url: str, report_ids: list[str]) -> int:
    """Return how many of ``report_ids`` the database holds."""
    engine = make_engine(database_url)
    found = 0
    try:
        with engine.connect() as conn:
            for i in range(0, len(report_ids), 500):
                chunk = report_ids[i : i + 500]
                query = select(func.count()).where(reports.c.report_id.in_(chunk))
                found += conn.scalar(query) or 0
    finally:
        engine.dispose()
    return found


def _warm_up(port: int, n: int = 20) -> None:
    client = CollectorClient(port)
    for _ in range(n):
        client.request("GET", "/api/v1/protocol")
    client.close()


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    """Run one load test and return its figures."""
    env = {"DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0"}
    server = GunicornServer(
        database_url, workers=args.workers, threads=args.server_threads, env=env
    )
    with server:
        _warm_up(server.port)
        server_cpu = _group_cpu_s(server.process.pid)
        share = [
            args.reports // args.procs + (i < args.reports % args.procs) for i in range(args.procs)
        ]
        start_at = time.time() + 1.0 + args.reports / 20_000  # time to pre-build payloads
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(args.procs) as pool:
            pending = [
                pool.apply_async(
                    _client_process, (server.port, n, args.threads, start_at, args.max_seconds)
                )
                for n in share
            ]
            results = [p.get(timeout=args.max_seconds + 120) for p in pending]
        wall = time.time() - start_at
        server_cpu = _group_cpu_s(server.process.pid) - server_cpu
    acked_ids = [i for r in results for i in r.acked_ids]
    figures = _figures(results, wall, _count_stored(database_url, acked_ids))
    requests = max(1, sum(len(r.latencies_ms) + r.duplicates for r in results))
    figures["server_cpu_ms_per_report"] = round(server_cpu * 1000 / requests, 3)
    figures["client_cpu_ms_per_report"] = round(sum(r.cpu_s for r in results) * 1000 / requests, 3)
    return figures


def _figures(results: list[ClientResult], wall_s: float, stored: int) -> dict[str, Any]:
    latencies = sorted(x for r in results for x in r.latencies_ms)
    acked = sum(len(r.acked_ids) for r in results)
    errors: dict[str, int] = {}
    for r in results:
        for key, n in r.errors.items():
            errors[key] = errors.get(key, 0) + n
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "acknowledged": acked,
        "acknowledged_and_stored": stored,
        "lost": acked - stored,
        "duplicates": sum(r.duplicates for r in results),
        "errors": errors,
        "wall_s": round(wall_s, 2),
        "accepted_per_s": round(acked / wall_s, 1),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reports", type=int, default=5000, help="reports to send (max 100000)")
    p.add_argument("--max-seconds", type=float, default=60.0, help="stop sending after this")
    p.add_argument("--procs", type=int, default=2, help="client processes")
    p.add_argument("--threads", type=int, default=4, help="connections per client process")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    p.add_argument("--server-threads", type=int, default=4, help="gthread threads per worker")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    args.reports = max(1, min(args.reports, 100_000))
    args.max_seconds = max(1.0, min(args.max_seconds, 600.0))
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the load test; exit status 1 if anything acknowledged was not stored."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'load.sqlite'}"
        figures = run(args, url)
    backend = url.split(":", 1)[0]
    setup = (
        f"gunicorn {args.workers} workers x {args.server_threads} threads; "
        f"clients {args.procs} procs x {args.threads} connections"
    )
    if args.json:
        print(json.dumps({"database": backend, "setup": setup, **figures}))
    else:
        print(f"database {backend}; {setup}")
        for key, value in figures.items():
            print(f"  {key:>15}: {value}")
    return 1 if figures["lost"] != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
