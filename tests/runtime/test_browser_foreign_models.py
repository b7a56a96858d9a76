"""Detectors from elsewhere in the browser runtime (sdk/js): the yolo and detections models
of :mod:`tests.runtime.foreign_models`, loaded from their hand-written detector.json by
every engine that opens them, give the detections the Python runtime gives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.runtime.browser import (
    StaticServer,
    browser_marks,
    chromium,
    module_page,
    runtime_routes,
    watch_console,
)
from tests.runtime.foreign_models import DETECTIONS_EXPECTED, WHITE, YOLO_EXPECTED, build_all

pytestmark = browser_marks()

PAGE = """
import { load } from "@sdk/detector.js";
window.detectWhite = async (url, engine, [h, w]) => {
  const det = await load(url, { engine, backend: "wasm", threads: 1 });
  const pixels = { data: new Uint8Array(h * w * 3).fill(255), width: w, height: h, channels: 3 };
  try {
    return { info: det.info, found: await det.detect(pixels) };
  } finally {
    det.dispose();
  }
};
window.ready = true;
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    models = build_all(tmp_path_factory.mktemp("foreign"))
    routes = {**runtime_routes(), **{f"/models/{name}/": path for name, path in models.items()}}
    with StaticServer(routes, {"/index.html": module_page(PAGE)}) as running:
        yield running


@pytest.mark.parametrize(("model", "engine", "expected"), [
    ("yolo-tflite/model.tflite", "litert", YOLO_EXPECTED),
    ("yolo-onnx/model.onnx", "ort", YOLO_EXPECTED),
    ("yolo-tfjs/model.json", "tfjs", YOLO_EXPECTED),
    ("detections-tflite/model.tflite", "litert", DETECTIONS_EXPECTED)])
def test_browser_runs_foreign_output_kinds(server, model, engine, expected):
    # The model file's URL: a hand-written detector.json has no provenance.format to say
    # which model lies beside it.
    with chromium() as browser:
        tab: Any = browser.new_page()
        errors = watch_console(tab)
        tab.goto(server.url("/index.html"))
        tab.wait_for_function("window.ready === true", timeout=30_000)
        result = tab.evaluate("([url, engine, size]) => window.detectWhite(url, engine, size)",
                              [f"/models/{model}", engine, list(WHITE.shape[:2])])
    assert result["info"]["engine"] == engine
    found = [(d["label"], round(d["score"], 4),
              [round(v, 2) for v in (d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2],
                                     d["bbox"][1] + d["bbox"][3])]) for d in result["found"]]
    assert found == expected
    assert errors == []
