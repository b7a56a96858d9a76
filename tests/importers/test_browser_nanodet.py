"""The imported NanoDet in the browser runtime (sdk/js): on real photos decoded by Chromium,
TF.js and LiteRT.js find the expected COCO classes, with the detections the Python runtime
gives on the same export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from sdk.boxes import greedy_match
from tests.importers.photos import EXPECTED, LOW_THRESHOLD, photo
from tests.runtime.browser import (
    StaticServer,
    browser_marks,
    chromium,
    module_page,
    runtime_routes,
    watch_console,
)

pytestmark = browser_marks()

# The page decodes each PNG itself (lossless: the same pixels Python reads).
PAGE = """
import { load } from "@sdk/detector.js";
window.detectPhotos = async (url, engine, photos, threshold) => {
  const det = await load(url, { engine, backend: "wasm", threads: 1 });
  try {
    const out = {};
    for (const name of photos) {
      const blob = await (await fetch(`/photos/${name}.png`)).blob();
      const bitmap = await createImageBitmap(blob);
      out[name] = await det.detect(bitmap, { minScore: threshold });
      bitmap.close();
    }
    return { info: det.info, found: out };
  } finally {
    det.dispose();
  }
};
window.ready = true;
"""


@pytest.fixture(scope="module")
def server(nanodet_exports: Path, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[StaticServer]:
    photos = tmp_path_factory.mktemp("photos")
    for name in EXPECTED:
        Image.fromarray(photo(name)).save(photos / f"{name}.png")
    routes = {**runtime_routes(), "/models/": nanodet_exports, "/photos/": photos}
    with StaticServer(routes, {"/index.html": module_page(PAGE)}) as running:
        yield running


def _boxes(found: list[dict[str, Any]]) -> np.ndarray:
    return np.array([[d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2],
                      d["bbox"][1] + d["bbox"][3]] for d in found], np.float64).reshape(-1, 4)


@pytest.mark.parametrize(("folder", "engine"), [("nanodet-tfjs-fp32", "tfjs"),
                                                ("nanodet-tflite-fp32", "litert")])
def test_browser_finds_the_coco_classes_python_finds(server, nanodet_exports, folder, engine):
    import sdk

    with chromium() as browser:
        tab: Any = browser.new_page()
        errors = watch_console(tab)
        tab.goto(server.url("/index.html"))
        tab.wait_for_function("window.ready === true", timeout=30_000)
        result = tab.evaluate(
            "([url, engine, photos, t]) => window.detectPhotos(url, engine, photos, t)",
            [f"/models/{folder}/", engine, list(EXPECTED), LOW_THRESHOLD])
    assert result["info"]["engine"] == engine and errors == []
    python = sdk.load(nanodet_exports / "nanodet-tflite-fp32")  # Python runs no TF.js
    for name, (label, threshold) in EXPECTED.items():
        found = result["found"][name]
        print(name, engine, [(d["label"], round(d["score"], 3)) for d in found[:5]])
        assert any(d["label"] == label and d["score"] >= threshold for d in found), found
        want = python.detect(photo(name), score_threshold=LOW_THRESHOLD)
        # Same export, same pixels: every Python detection is found (same class, IoU >= 0.9)
        # with nearly the same score; only a box at the threshold's edge may differ.
        matches = greedy_match(np.array([d.box for d in want], np.float64).reshape(-1, 4),
                               [d.label for d in want], _boxes(found),
                               [d["label"] for d in found], 0.9)
        assert len(matches) >= len(want) - 1 and len(found) <= len(want) + 1, (want, found)
        for m in matches:
            assert abs(want[m.reference].score - found[m.candidate]["score"]) < 0.02
