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
    """Run ``python -m benchmarks.<name>`` as a user would, from the repository root."""
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=timeout,
                          check=False)


def script_output(name: str, *args: str, timeout: float = 300) -> str:
    """stdout of ``python -m benchmarks.<name>``, which must succeed (else its stderr)."""
    done = run_script(name, *args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout
