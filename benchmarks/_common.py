"""Helpers shared by the benchmark scripts: machine description, statistics, JSON, tables.

Every script states where and how it measured (machine, versions, threads, runs) and
writes its JSON atomically (temp file + rename), so a crash never leaves half a result.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _cpuinfo(field: str) -> str | None:
    """The first ``field`` value in /proc/cpuinfo (None where the file or field is missing)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (``platform.processor()`` is often empty)."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


# Two "AMD EPYC" 2-vCPU machines of this project differed 4x in train-step time: one had
# AVX-512 (with bf16 and VNNI), the other stopped at AVX2. The model name does not say which.
SIMD_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile")


def cpu_simd() -> list[str]:
    """Which of ``SIMD_FLAGS`` the CPU reports (empty where /proc/cpuinfo is missing)."""
    flags = set((_cpuinfo("flags") or "").split())
    return [f for f in SIMD_FLAGS if f in flags]


def machine_info() -> dict[str, Any]:
    """Where the numbers come from; the load average shows whether the CPU was shared."""
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    info: dict[str, Any] = {
        "cpu": cpu_model(), "simd": cpu_simd(), "arch": platform.machine(), "cores": cores,
        "usable_cores": usable,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if hasattr(os, "getloadavg"):
        info["loadavg_1m"] = round(os.getloadavg()[0], 2)
    return info


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (``missing`` when not installed)."""
    found = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def median(values: Iterable[float]) -> float:
    """Median of ``values`` (raises ``StatisticsError`` when empty)."""
    return float(statistics.median(list(values)))


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile ``q`` in [0, 100] of unsorted ``values``, by the benchmark protocol's
    definition (linear interpolation), so scripts and device reports agree."""
    from sdk.bench.protocol import percentile as protocol_percentile

    return float(protocol_percentile(sorted(values), q))


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically; returns the path."""
    from sdk.atomic import write_text_atomic

    target = Path(path)
    write_text_atomic(target, json.dumps(data, indent=2, default=str) + "\n")
    return target


def report_head(benchmark: str, *packages: str) -> dict[str, Any]:
    """The fields every results JSON starts with: its name, the machine, the versions."""
    return {"benchmark": benchmark, "machine": machine_info(), "versions": versions(*packages)}


def machine_line(report: dict[str, Any]) -> str:
    """One line saying where a report was measured (CPU, SIMD flags, cores, load, versions)."""
    m = report["machine"]
    simd = ", ".join(m.get("simd") or []) or "no SIMD flags found"
    return (f"{m['cpu']} ({simd}), {m['cores']} cores, load {m.get('loadavg_1m')}; "
            f"{report.get('versions')}")


def publish(report: dict[str, Any], out: str | Path, head: Sequence[str], table: str,
            bullets: Iterable[str] = ()) -> Path:
    """Print ``head`` lines, the table and the bullet notes, then write the JSON to ``out``."""
    for line in head:
        print(line)
    print(table)
    for line in bullets:
        print(f"* {line}")
    path = write_json(out, report)
    print(f"-> {path}")
    return path


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; floats keep 4 significant digits, ``None`` is an empty cell."""
    def cell(value: Any) -> str:
        if value is None:
            return ""
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
