"""Smoke test of ``python -m benchmarks.browser_peer``: SDK TF.js vs onnxruntime-web in Chromium.

Runs the script on the untrained tiny Fast detector (96 px) with two short rounds: checks
that every contender starts and is timed, the page is cross-origin isolated, both WASM
runtimes report their threads, and ORT's outputs equal TF.js's on the same input.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.browser import REPO, browser_available

ORT_WEB = REPO / "node_modules" / "onnxruntime-web" / "dist"


def _unavailable() -> str | None:
    if browser_available() is not None:
        return browser_available()
    if not ORT_WEB.is_dir():
        return "node_modules/onnxruntime-web missing (npm install)"
    if importlib.util.find_spec("tf2onnx") is None:
        return "tf2onnx not installed (bench extra)"
    return None


pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(_unavailable() is not None, reason=_unavailable() or "")]


def test_runs_on_the_tiny_model(tiny_fast: Path, tmp_path: Path):
    out = tmp_path / "peer.json"
    cmd = [sys.executable, "-m", "benchmarks.browser_peer", "--model", str(tiny_fast), "--exports",
           str(tmp_path / "none"), "--work", str(tmp_path / "work"), "--backends", "wasm",
           "cpu", "--rounds", "2", "--per-block", "2", "--e2e", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["browser"]["crossOriginIsolated"] is True
    assert report["browser"]["page_errors"] == []
    contenders = report["models"]["fast"]["contenders"]
    assert set(contenders) == {"tfjs-wasm", "tfjs-cpu", "ort-wasm", "tfjs-wasm/detect",
                               "ort-wasm/detect"}
    for name, c in contenders.items():
        assert "error" not in c, (name, c)
        assert c["runs"] == 4 and c["fps"] > 0 and c["cores_busy"] >= 0, name
    ours, ort = contenders["tfjs-wasm"], contenders["ort-wasm"]
    assert ours["threads"] >= 1 and ort["threads"] >= 1 and ort["simd"] is True
    assert ort["max_abs_diff_vs_tfjs_wasm"]["scores"] < 1e-3
    assert ort["max_abs_diff_vs_tfjs_wasm"]["boxes"] < 1e-3
    assert ort["speed_vs_ort"] == 1.0 and ours["speed_vs_ort"] > 0
    assert "| ort-wasm |" in done.stdout
