"""The JavaScript ports (sdk/js) against the Python reference: runs the Node test suite.

``node --test tests/js/`` compares the ports with ``golden.json``; this wrapper first checks
that the committed golden file is what the current Python reference produces.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.js.make_golden import GOLDEN, render

ROOT = Path(__file__).resolve().parents[2]


def test_golden_json_is_current():
    assert GOLDEN.read_text(encoding="utf-8") == render(), (
        "sdk/postprocess.py or sdk/preprocess.py changed: run python tests/js/make_golden.py")


def test_node_suite_matches_golden():
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        pytest.skip("needs node and `npm install` (make setup)")
    tests = sorted(str(p) for p in Path(__file__).parent.glob("*.test.mjs"))
    result = subprocess.run([node, "--test", *tests], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
