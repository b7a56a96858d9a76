"""Checks shared by the benchmark smoke tests."""

from __future__ import annotations

import json
from pathlib import Path


def load_report(path: Path, benchmark: str) -> dict:
    """The JSON a script wrote, checked for the fields every benchmark states."""
    report = json.loads(path.read_text())
    assert report["benchmark"] == benchmark
    assert {"cpu", "cores", "python"} <= set(report["machine"])
    assert report["versions"] and report["rows"]
    return report
