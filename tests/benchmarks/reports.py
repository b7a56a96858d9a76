"""Checks shared by the benchmark smoke tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_report(path: Path, benchmark: str) -> dict:
    """The JSON a script wrote, checked for the fields every benchmark states."""
    report = json.loads(path.read_text())
    assert report["benchmark"] == benchmark
    assert {"cpu", "cores", "python"} <= set(report["machine"])
    assert report["versions"] and report["rows"]
    return report


def run_script(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``benchmarks/<name>`` as a user would, from the repository root."""
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args],
                          capture_output=True, text=True, cwd=REPO, timeout=timeout,
                          check=False)
