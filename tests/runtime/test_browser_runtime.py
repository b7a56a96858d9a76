"""The browser runtime (sdk/js) in real headless Chromium: backends, leaks, errors, parity."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import sdk
from tests.runtime.browser import (
    StaticServer,
    browser_available,
    chromium,
    module_page,
    runtime_routes,
    watch_console,
)
from tests.runtime.matching import parity_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(browser_available() is not None,
                                 reason=browser_available() or "")]

PAGE = """
import * as tf from "@tensorflow/tfjs";
import { load } from "@sdk/detector.js";
window.tf = tf;
window.sdkLoad = load;
window.detectUrl = async (det, url, options) => {
  const img = new Image();
  img.src = url;
  await img.decode();
  return det.detect(img, options);
};
window.ready = true;
"""
MODEL = "/models/tiny/"


@pytest.fixture(scope="module")
def probe_pngs(probe_images: list[Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The probe images as PNG: lossless, so Chromium and Pillow decode identical pixels."""
    folder = tmp_path_factory.mktemp("probe_png")
    out = []
    for path in probe_images:
        out.append(folder / f"{path.stem}.png")
        Image.open(path).convert("RGB").save(out[-1])
    return out


@pytest.fixture(scope="module")
def server(exports, probe_pngs, tmp_path_factory) -> Iterator[StaticServer]:
    broken = Path(shutil.copytree(exports.tfjs, tmp_path_factory.mktemp("broken") / "m"))
    spec = json.loads((broken / "detector.json").read_text())
    (broken / "detector.json").write_text(json.dumps({**spec, "schema_version": 2}))
    routes = {**runtime_routes(), MODEL: exports.tfjs, "/models/broken/": broken,
              "/images/": probe_pngs[0].parent}
    with StaticServer(routes, {"/index.html": module_page(PAGE)}) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser, server) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page with the runtime imported, and the list of its console errors."""
    tab = browser.new_page()
    errors = watch_console(tab)
    tab.goto(server.url("/index.html"))
    tab.wait_for_function("window.ready === true", timeout=30_000)
    yield tab, errors
    tab.close()


def _load(tab: Any, backend: str, **options: Any) -> dict:
    return tab.evaluate("async ([url, options]) => { window.det = await window.sdkLoad(url, "
                        "options); return window.det.info; }", [MODEL, {"backend": backend,
                                                                        **options}])


def _detect(tab: Any, image: Path, **options: Any) -> list[dict]:
    return tab.evaluate("([url, options]) => window.detectUrl(window.det, url, options)",
                        [f"/images/{image.name}", options])


@pytest.mark.parametrize("backend", ["wasm", "cpu"])
def test_backend_loads_detects_and_reports(page, backend, probe_pngs, busy_image):
    tab, errors = page
    info = _load(tab, backend)
    assert info["backend"] == backend
    assert info["loadMs"] > 0 and info["warmupMs"] > 0
    if backend == "wasm":
        assert info["crossOriginIsolated"] is True  # COOP/COEP: threads are allowed
        assert info["threads"] >= 1 and isinstance(info["simd"], bool)
    busy = next(p for p in probe_pngs if p.stem == busy_image.stem)
    found = _detect(tab, busy)
    width, height = Image.open(busy).size
    assert found and {"bbox", "label", "score", "classId"} <= set(found[0])
    for d in found:
        x, y, w, h = d["bbox"]
        assert 0 <= x <= x + w <= width + 1e-3 and 0 <= y <= y + h <= height + 1e-3
    timings = tab.evaluate("window.det.lastTimings")
    assert list(timings) == ["preprocess", "inference", "readback", "postprocess"]
    assert errors == []


def test_auto_times_the_backends_and_keeps_the_fastest(page):
    tab, errors = page
    # webgl is left out: software WebGL in headless Chromium compiles shaders for ~15 s.
    info = _load(tab, "auto", candidates=["webgpu", "wasm", "cpu"])
    timed = {name: t["medianMs"] for name, t in info["trials"].items() if "medianMs" in t}
    assert {"wasm", "cpu"} <= set(timed), info["trials"]
    assert "error" in info["trials"]["webgpu"]  # not available here: recorded, not fatal
    assert info["backend"] == min(timed, key=timed.get)
    assert errors == []


def test_no_tensor_leak_over_100_detections(page, probe_pngs):
    tab, errors = page
    _load(tab, "wasm")
    counts = tab.evaluate("""async (url) => {
        const img = new Image(); img.src = url; await img.decode();
        await window.det.detect(img);
        const before = window.tf.memory().numTensors;
        for (let i = 0; i < 100; i++) await window.det.detect(img);
        return [before, window.tf.memory().numTensors];
    }""", f"/images/{probe_pngs[1].name}")
    assert counts[0] == counts[1]
    tab.evaluate("window.det.dispose()")
    assert errors == []


def test_bad_detector_json_is_a_clear_error(page):
    tab, _ = page
    message = tab.evaluate("() => window.sdkLoad('/models/broken/', {backend: 'cpu'})"
                           ".then(() => 'loaded', (e) => e.message)")
    assert "unsupported schema_version 2" in message


def test_browser_matches_python_litert(page, exports, probe_pngs):
    """Issue 4's parity: every box matched with IoU >= 0.9 and |score diff| <= 0.02."""
    tab, errors = page
    _load(tab, "wasm")
    python = sdk.load(exports.tflite)
    compared = 0
    for image in probe_pngs:
        ours = [(d.label, d.score, d.box) for d in python.detect(image)]
        theirs = [(d["label"], d["score"], (d["bbox"][0], d["bbox"][1],
                                            d["bbox"][0] + d["bbox"][2],
                                            d["bbox"][1] + d["bbox"][3]))
                  for d in _detect(tab, image)]
        assert not parity_problems(ours, theirs), image.name
        compared += len(ours)
    assert compared >= 10, "too few detections for a meaningful parity check"
    assert errors == []
