"""The web demo offers the imported NanoDet beside the bundled models: the phone page lists
it under its display name, and a camera pointed at a person shows a "person" box.

The camera is Chromium's fake capture device playing the astronaut photo (a YUV clip, as a
real camera delivers frames); the boxes the page lists are the ones the Python runtime
finds in the same frame.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from device_bench.db import shutdown
from sdk.bench.protocol import compare_detections
from tests.importers.photos import photo
from tests.runtime.browser import browser_marks
from tests.web_demo.demo_browser import CHROMIUM, PHONE, chromium_args, live_server
from tests.web_demo.fake_camera import camera_frame, camera_frame_rgb, write_y4m
from web_demo import create_app

pytestmark = browser_marks()
VARIANT = "nanodet-tfjs-fp32"
WAIT_MS = 180_000  # a 416 px model on a loaded 2-core machine: seconds per frame on wasm


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    Image.fromarray(photo("astronaut")).save(path)
    return path


@pytest.fixture(scope="module")
def demo(nanodet_exports: Path, frame: Path, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[tuple[str, Any]]:
    exports = tmp_path_factory.mktemp("demo-exports")
    shutil.copytree(nanodet_exports / VARIANT, exports / VARIANT)
    app = create_app({"TESTING": True, "EXPORTS_DIR": str(exports), "MODELS": ("fast",),
                      "QUANTIZATIONS": ("fp32",), "RATE_LIMIT_PER_MINUTE": 0,
                      "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'b.sqlite'}"})
    clip = write_y4m(tmp_path_factory.mktemp("camera") / "clip.y4m", camera_frame(frame))
    from playwright.sync_api import sync_playwright

    try:
        with live_server(app) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(clip))
            yield url, browser
            browser.close()
    finally:
        shutdown(app)


def test_listing_names_the_imported_model(demo):
    import json
    import urllib.request

    url, _ = demo
    with urllib.request.urlopen(f"{url}/api/models") as resp:  # noqa: S310 - loopback
        listing = json.loads(resp.read())
    (entry,) = [v for v in listing["variants"] if v["name"] == VARIANT]
    assert entry["status"] == "ready" and entry["title"] == "COCO (NanoDet)"
    assert len(entry["labels"]) == 80 and entry["input_size"] == [416, 416]


def test_phone_camera_on_a_person_shows_a_person_box(demo, nanodet_exports, frame):
    import sdk

    url, browser = demo
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{url}/?variant={VARIANT}&backend=wasm")
        page.wait_for_selector(f"body[data-detector=ready][data-variant='{VARIANT}']",
                               state="attached", timeout=WAIT_MS)
        options = page.eval_on_selector_all("#model option", "els => els.map(e => e.textContent)")
        assert "COCO (NanoDet)" in options and "Fast" in options, options
        assert page.input_value("#model") == "nanodet"
        page.wait_for_selector("#detections li", state="attached", timeout=WAIT_MS)
        items = page.eval_on_selector_all("#detections li", "els => els.map(e => ({...e.dataset}))")
        found = []
        for item in items:
            x, y, w, h = (float(v) for v in item["bbox"].split(","))
            found.append({"box": [x, y, x + w, y + h], "label": item["label"],
                          "score": float(item["score"])})
        threshold = float(page.input_value("#threshold"))
    finally:
        context.close()
    assert "person" in [d["label"] for d in found], found
    seen = camera_frame_rgb(camera_frame(frame))
    # The same fp32 model as TFLite: Python runs no TF.js.
    expected = [d.to_dict() for d in sdk.load(nanodet_exports / "nanodet-tflite-fp32").detect(
        seen, score_threshold=threshold)]
    result = compare_detections([expected], [found], min_recall=0.9)
    assert result.passed and result.max_score_delta < 0.05, (result, expected, found)
    assert errors == []
