"""Smoke test of ``python -m benchmarks.browser_peer``: the SDK's browser engines beside raw
onnxruntime-web in Chromium.

Runs the script on the untrained tiny Fast detector (96 px), one fp32 export per engine, two
short rounds and a one-second camera loop: checks that every engine starts and is timed in
the cross-origin-isolated page, that each one's outputs agree with the Python fp32
reference, and that the camera comparison and the headline ratios are reported.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.browser import NODE_MODULES, REPO, browser_available


def _unavailable() -> str | None:
    if browser_available() is not None:
        return browser_available()
    for package in ("onnxruntime-web", "@litertjs/core", "@tensorflow/tfjs-core"):
        if not (NODE_MODULES / package).is_dir():
            return f"node_modules/{package} missing (npm install)"
    if importlib.util.find_spec("tf2onnx") is None:
        return "tf2onnx not installed (onnx extra)"
    return None


pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(_unavailable() is not None, reason=_unavailable() or "")]

SDK_ROWS = ("litert/wasm fp32", "ort/wasm fp32", "tfjs/wasm fp32")


def test_runs_every_engine_on_the_tiny_model(tiny_fast: Path, bench_exports: Path,
                                             tmp_path: Path):
    out = tmp_path / "peer.json"
    cmd = [sys.executable, "-m", "benchmarks.browser_peer", "--models", str(tiny_fast),
           "--exports", str(bench_exports), "--cells", "tflite:fp32", "onnx:fp32", "tfjs:fp32",
           "--threads", "2", "--backends", "wasm", "--rounds", "2", "--per-block", "2",
           "--camera", "--camera-seconds", "1", "--camera-rounds", "1", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["browser"]["crossOriginIsolated"] is True
    assert report["browser"]["page_errors"] == []
    (model,) = report["models"].values()
    contenders = model["groups"]["2"]["contenders"]
    assert set(contenders) == {*SDK_ROWS, "ort-raw/wasm fp32"}
    for name, row in contenders.items():
        assert "error" not in row, (name, row)
        for kind in ("model", "detect"):
            assert row[kind]["runs"] == 4 and row[kind]["fps"] > 0, (name, kind)
        assert row["max_abs_diff"]["boxes"] < 1e-3, name
        assert row["max_abs_diff"]["scores"] < 1e-3, name
    for name in SDK_ROWS:
        assert contenders[name]["threadsRequested"] == 2, name
        assert contenders[name]["model"]["x_ort_raw"] > 0
    # LiteRT.js and ORT-web take the count set; TF.js's wasm backend caps it at half the cores
    assert contenders["litert/wasm fp32"]["threads"] == contenders["ort/wasm fp32"]["threads"] == 2
    assert contenders["tfjs/wasm fp32"]["threads"] >= 1
    (camera,) = report["camera"]
    assert camera["contender"] in SDK_ROWS and camera["threads_used"] == 2
    assert all(camera["fps"][mode] > 0 for mode in ("sequential", "worker1", "pipelined"))
    assert any("ort-raw" in line for line in report["headline"])
    assert "| ort-raw/wasm fp32 |" in done.stdout
