"""Shared fixtures of the benchmark smoke tests: one export folder reused by every script.

The scripts reuse exports whose ``detector.json`` names the same source weights, so the
tiny model is converted once per session, not once per script.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def bench_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder the scripts fill with (and reuse) the tiny model's exports."""
    return tmp_path_factory.mktemp("bench-exports")
