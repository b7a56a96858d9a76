"""The browser runtime (sdk/js) in real headless Chromium: three engines behind one load(),
backends, the worker, leaks, errors, and cross-runtime parity with the Python runtime."""

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
    browser_marks,
    chromium,
    module_page,
    runtime_routes,
    watch_console,
)
from tests.runtime.matching import parity_problems

pytestmark = browser_marks()

PAGE = """
import * as tf from "@tensorflow/tfjs";
import { load, loadInWorker } from "@sdk/detector.js";
window.tf = tf;
window.sdkLoad = load;
window.sdkLoadInWorker = loadInWorker;
window.image = async (url) => {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
};
window.detectUrl = async (det, url, options) => det.detect(await window.image(url), options);
window.ready = true;
"""
THREADS = 2  # set explicitly: the engines' own defaults differ (half the cores, all, ...)
# Folder under /models/ -> (engine, the Python reference it must match).
ENGINE_OF = {"tfjs": "tfjs", "tflite-fp32": "litert", "tflite-int8": "litert",
             "onnx-fp32": "ort", "onnx-int8": "ort"}


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
def server(exports, engine_exports, probe_pngs, tmp_path_factory) -> Iterator[StaticServer]:
    broken = Path(shutil.copytree(exports.tfjs, tmp_path_factory.mktemp("broken") / "m"))
    spec = json.loads((broken / "detector.json").read_text())
    (broken / "detector.json").write_text(json.dumps({**spec, "schema_version": 2}))
    routes = {**runtime_routes(), "/models/broken/": broken,
              "/models/tflite-dynamic/": exports.tflite,  # batch -1: what LiteRT.js refuses
              "/images/": probe_pngs[0].parent,
              **{f"/models/{name}/": folder for name, folder in engine_exports.items()}}
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


def _load(tab: Any, models: str | list[str], **options: Any) -> dict:
    urls = [f"/models/{m}/" for m in ([models] if isinstance(models, str) else models)]
    return tab.evaluate("async ([urls, options]) => { window.det = await window.sdkLoad(urls, "
                        "options); return window.det.info; }",
                        [urls, {"threads": THREADS, **options}])


def _detect(tab: Any, image: Path, **options: Any) -> list[dict]:
    return tab.evaluate("([url, options]) => window.detectUrl(window.det, url, options)",
                        [f"/images/{image.name}", options])


def _triples(found: list[dict]) -> list[tuple[str, float, tuple[float, ...]]]:
    return [(d["label"], d["score"], (d["bbox"][0], d["bbox"][1], d["bbox"][0] + d["bbox"][2],
                                      d["bbox"][1] + d["bbox"][3])) for d in found]


@pytest.mark.parametrize(("folder", "backend"), [("tfjs", "wasm"), ("tfjs", "cpu"),
                                                 ("tflite-fp32", "wasm"), ("onnx-fp32", "wasm")])
def test_engine_loads_detects_and_reports(page, folder, backend, probe_pngs, busy_image):
    tab, errors = page
    info = _load(tab, folder, backend=backend)
    assert (info["engine"], info["backend"]) == (ENGINE_OF[folder], backend)
    assert info["version"] and info["format"] == folder.split("-")[0]
    assert info["loadMs"] > 0 and info["warmupMs"] > 0
    assert info["crossOriginIsolated"] is True  # COOP/COEP: threads are allowed
    if backend == "wasm":
        assert isinstance(info["simd"], bool) and info["threadsRequested"] == THREADS
        # LiteRT.js and onnxruntime-web use what they are asked for; TF.js caps its wasm
        # threads at half the logical cores (compiled into its wasm binary).
        expected = THREADS if folder != "tfjs" else 1
        assert info["threads"] == expected
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


def test_auto_times_every_engine_and_backend_and_keeps_the_fastest(page):
    tab, errors = page
    # webgl is left out: software WebGL in headless Chromium compiles shaders for ~15 s.
    info = _load(tab, ["tfjs", "tflite-fp32", "onnx-fp32"], backend="auto",
                 candidates=["webgpu", "wasm", "cpu"])
    trials = info["trials"]
    timed = {name: t["medianMs"] for name, t in trials.items() if "medianMs" in t}
    assert {"tfjs/wasm", "tfjs/cpu", "litert/wasm", "ort/wasm"} <= set(timed), trials
    for engine in ("tfjs", "litert", "ort"):  # no GPU here: recorded, not fatal
        assert "error" in trials[f"{engine}/webgpu"], trials
    best = min(timed, key=timed.get)
    assert f"{info['engine']}/{info['backend']}" == best
    assert trials[best]["chosen"] is True and info["chooseMs"] > 0
    assert errors == []


def test_engine_option_restricts_the_choice(page):
    tab, errors = page
    info = _load(tab, ["tfjs", "tflite-fp32", "onnx-fp32"], engine="ort", backend="auto")
    assert info["engine"] == "ort" and info["backend"] == "wasm"
    assert all(k.startswith("ort/") or "not requested" in v.get("error", "")
               for k, v in info["trials"].items())
    message = tab.evaluate("() => window.sdkLoad('/models/tfjs/', {engine: 'litert'})"
                           ".then(() => 'loaded', (e) => e.message)")
    assert "nothing to run" in message and "not requested" in message
    assert errors == []


def test_no_tensor_leak_over_100_detections(page, probe_pngs):
    tab, errors = page
    _load(tab, "tfjs", backend="wasm")
    counts = tab.evaluate("""async (url) => {
        const img = await window.image(url);
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


def test_litert_refuses_a_dynamic_batch_with_the_fix(page):
    tab, _ = page
    message = tab.evaluate("() => window.sdkLoad('/models/tflite-dynamic/', {backend: 'wasm'})"
                           ".then(() => 'loaded', (e) => e.message)")
    assert "dynamic shape [-1,96,96,3]" in message and "static [1, 96, 96, 3]" in message
    assert "sdk export --format tflite" in message


def _python_reference(folder: str, exports, engine_exports) -> Any:
    """What the browser must match: the Python runtime on the fp32 TFLite for every fp32
    export (one source of truth), and on the same artifact for int8 (an int8 model is not
    the fp32 model: quantization moves scores by more than the parity budget): LiteRT for
    the .tflite, onnxruntime for the .onnx."""
    return _SdkReference(engine_exports[folder] if folder.endswith("int8") else exports.tflite)


class _SdkReference:
    """The Python runtime (sdk.load) on one export."""

    def __init__(self, folder: Path):
        self.detector = sdk.load(folder)

    def triples(self, image: Path) -> list[tuple[str, float, tuple[float, ...]]]:
        return [(d.label, d.score, d.box) for d in self.detector.detect(image)]


@pytest.mark.parametrize("folder", ["tfjs", "tflite-fp32", "onnx-fp32", "tflite-int8",
                                    "onnx-int8"])
def test_browser_matches_python(page, folder, exports, engine_exports, probe_pngs):
    """Every box matched with IoU >= 0.9 and |score diff| <= 0.02, for each engine."""
    tab, errors = page
    info = _load(tab, folder, backend="wasm")
    assert info["engine"] == ENGINE_OF[folder]
    python = _python_reference(folder, exports, engine_exports)
    compared = 0
    for image in probe_pngs:
        ours = python.triples(image)
        theirs = _triples(_detect(tab, image))
        assert not parity_problems(ours, theirs), (folder, image.name)
        compared += len(ours)
    assert compared >= 10, "too few detections for a meaningful parity check"
    assert errors == []


@pytest.mark.parametrize("folder", ["tfjs", "tflite-fp32", "onnx-fp32"])
def test_worker_gives_the_main_thread_detections(page, folder, probe_pngs):
    """loadInWorker (prep + engine workers, frames in flight together) = load()."""
    tab, errors = page
    result = tab.evaluate("""async ([url, images, threads]) => {
        const imgs = await Promise.all(images.map((u) => window.image(u)));
        const main = await window.sdkLoad(url, {backend: 'wasm', threads});
        const expected = [];
        for (const img of imgs) expected.push(await main.detect(img));
        main.dispose();
        const worker = await window.sdkLoadInWorker(url, {backend: 'wasm', threads});
        // All frames at once: the prep worker prepares the next ones while one runs.
        const got = await Promise.all(imgs.map((img) => worker.detect(img)));
        const info = worker.info, timings = worker.lastTimings;
        worker.dispose();
        return {expected, got, info, timings};
    }""", [f"/models/{folder}/", [f"/images/{p.name}" for p in probe_pngs], THREADS])
    assert result["info"]["engine"] == ENGINE_OF[folder]
    assert sum(len(d) for d in result["expected"]) > 0
    for expected, got in zip(result["expected"], result["got"], strict=True):
        assert [d["label"] for d in got] == [d["label"] for d in expected]
        for a, b in zip(got, expected, strict=True):
            assert a["score"] == pytest.approx(b["score"], abs=1e-6)
            assert a["bbox"] == pytest.approx(b["bbox"], abs=1e-3)
    assert list(result["timings"]) == ["preprocess", "inference", "readback", "postprocess"]
    assert errors == []


def test_worker_reads_a_video_as_a_video_frame(page, busy_image):
    """A <video> goes to the worker as its current VideoFrame (no pixel copy on the page):
    the detections are those of load() on the main thread reading the same video."""
    tab, errors = page
    result = tab.evaluate("""async ([url, image, threads]) => {
        const img = await window.image(image);
        const canvas = Object.assign(document.createElement('canvas'),
                                     {width: img.naturalWidth, height: img.naturalHeight});
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const video = Object.assign(document.createElement('video'), {muted: true});
        video.srcObject = canvas.captureStream();
        const playing = video.play(); // settles once a frame has arrived
        // A canvas stream emits a frame when the canvas is drawn: draw until one arrived.
        for (let i = 0; i < 250 && video.readyState < 2; i++) {
          ctx.drawImage(img, 0, 0);
          await new Promise((r) => setTimeout(r, 20));
        }
        if (video.readyState < 2) throw new Error('the canvas stream gave no frame in 5 s');
        await playing;
        const Native = globalThis.VideoFrame;
        let made = 0;
        globalThis.VideoFrame = class extends Native {
          constructor(...args) { super(...args); made++; }
        };
        try {
          const main = await window.sdkLoad(url, {backend: 'wasm', threads});
          const expected = await main.detect(video);
          main.dispose();
          const worker = await window.sdkLoadInWorker(url, {backend: 'wasm', threads});
          const got = await Promise.all([worker.detect(video), worker.detect(video)]);
          worker.dispose();
          return {expected, got, made, size: [video.videoWidth, video.videoHeight]};
        } finally {
          globalThis.VideoFrame = Native;
        }
    }""", ["/models/tflite-fp32/", f"/images/{busy_image.stem}.png", THREADS])
    assert result["made"] == 2  # one VideoFrame per detect(video), none left to the fallback
    assert result["expected"], "the busiest probe image should give detections"
    for got in result["got"]:
        assert not parity_problems(_triples(result["expected"]), _triples(got)), result
    assert errors == []


def test_worker_keeps_the_page_responsive(page, probe_pngs):
    """While the worker detects, the page's own tasks (timers: input, paint) keep running."""
    tab, errors = page
    ticks = tab.evaluate("""async ([url, image, threads]) => {
        const img = await window.image(image);
        const worker = await window.sdkLoadInWorker(url, {backend: 'wasm', threads});
        let ticks = 0;
        let running = true;
        const tick = () => { if (running) { ticks++; setTimeout(tick, 0); } };
        tick();
        for (let i = 0; i < 20; i++) await worker.detect(img);
        running = false;
        worker.dispose();
        return ticks;
    }""", ["/models/tflite-fp32/", f"/images/{probe_pngs[0].name}", THREADS])
    assert ticks >= 20  # at least one page task per frame: the page was never blocked
    assert errors == []
