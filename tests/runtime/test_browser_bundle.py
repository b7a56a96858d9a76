"""The browser runtime as an npm package: a tiny page bundled by a real bundler (esbuild),
served without an import map, runs every engine in headless Chromium.

The page imports ``ondevice-detect-sdk`` (``sdk/js``, linked into the page's own
``node_modules`` as an installed package would be); esbuild resolves the package through
its ``exports`` map and the engines (optional peer dependencies) from the project's
``node_modules``. Only the engines' ``.wasm`` files are served beside the bundle, found
through the ``wasmPaths`` option, as a bundler user deploys them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sdk
from tests.runtime.browser import (
    NODE_MODULES,
    REPO,
    SDK_JS,
    StaticServer,
    browser_marks,
    chromium,
    watch_console,
)
from tests.runtime.matching import parity_problems

pytestmark = browser_marks()

ESBUILD = NODE_MODULES / ".bin" / "esbuild"
ENTRY = """
import { load, ENGINES } from "ondevice-detect-sdk";

const wasmPaths = { tfjs: "/wasm/tfjs/", litert: "/wasm/litert/", ort: "/wasm/ort/" };

window.detectWith = async (url, imageUrl) => {
  const det = await load(url, { backend: "wasm", threads: 2, wasmPaths });
  const img = new Image();
  img.src = imageUrl;
  await img.decode();
  const found = await det.detect(img);
  const info = det.info;
  det.dispose();
  return { info, found };
};
window.engines = ENGINES.map((e) => e.name);
window.ready = true;
"""
PAGE = ("<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
        "</head><body><script type='module' src='/app/app.js'></script></body></html>")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """esbuild's bundle of the tiny page: its folder."""
    if not ESBUILD.is_file():
        pytest.skip("esbuild missing (npm install: it is a dev dependency)")
    app = tmp_path_factory.mktemp("app")
    (app / "node_modules").mkdir()
    (app / "node_modules" / "ondevice-detect-sdk").symlink_to(SDK_JS, target_is_directory=True)
    (app / "entry.js").write_text(ENTRY, encoding="utf-8")
    out = app / "dist"
    # onnxruntime-web's own advice for bundlers: its wasm glue stays a separate file (found
    # through wasmPaths), so its threads start from that file, not from the app's bundle.
    result = subprocess.run(
        [str(ESBUILD), "entry.js", "--bundle", "--format=esm", "--platform=browser",
         "--conditions=onnxruntime-web-use-extern-wasm", f"--outfile={out / 'app.js'}",
         "--log-level=warning"], cwd=app, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (out / "app.js").stat().st_size > 100_000  # the engines are in it
    return out


@pytest.fixture(scope="module")
def server(bundle: Path, engine_exports: dict[str, Path], busy_image: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    from PIL import Image

    images = tmp_path_factory.mktemp("bundle_images")
    Image.open(busy_image).convert("RGB").save(images / "busy.png")  # lossless
    routes = {"/app/": bundle, "/images/": images,
              "/wasm/tfjs/": NODE_MODULES / "@tensorflow" / "tfjs-backend-wasm" / "dist",
              "/wasm/litert/": NODE_MODULES / "@litertjs" / "core" / "wasm",
              "/wasm/ort/": NODE_MODULES / "onnxruntime-web" / "dist",
              **{f"/models/{name}/": folder for name, folder in engine_exports.items()}}
    with StaticServer(routes, {"/index.html": PAGE}) as running:
        yield running


@pytest.fixture(scope="module")
def page(server: StaticServer) -> Iterator[tuple[Any, list[str]]]:
    with chromium() as browser:
        tab = browser.new_page()
        errors = watch_console(tab)
        tab.goto(server.url("/index.html"))
        tab.wait_for_function("window.ready === true", timeout=60_000)
        yield tab, errors


def test_bundle_has_no_bare_imports_left(bundle: Path) -> None:
    """Everything the page imports was resolved at build time (no import map needed)."""
    text = (bundle / "app.js").read_text(encoding="utf-8")
    for specifier in ("@litertjs/core", "onnxruntime-web/wasm", "@tensorflow/tfjs-backend-wasm"):
        assert f'import("{specifier}")' not in text and f'from "{specifier}"' not in text
    assert REPO.name  # the package was linked from this checkout


@pytest.mark.parametrize(("folder", "engine"), [("tflite-fp32", "litert"),
                                                ("onnx-fp32", "ort"), ("tfjs", "tfjs")])
def test_bundled_page_runs_each_engine(page, folder, engine, exports, busy_image) -> None:
    tab, errors = page
    assert tab.evaluate("window.engines") == ["litert", "ort", "tfjs"]
    result = tab.evaluate("([u, i]) => window.detectWith(u, i)",
                          [f"/models/{folder}/", "/images/busy.png"])
    assert result["info"]["engine"] == engine and result["info"]["backend"] == "wasm"
    assert result["info"]["crossOriginIsolated"] is True
    python = sdk.load(exports.tflite)
    ours = [(d.label, d.score, d.box) for d in python.detect(busy_image)]
    theirs = [(d["label"], d["score"], (d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2],
                                        d["bbox"][1] + d["bbox"][3])) for d in result["found"]]
    assert ours and not parity_problems(ours, theirs)
    assert errors == []
