"""The SDK's browser engines side by side, and against onnxruntime-web used directly, in Chromium.

One headless Chromium page (Debian's /usr/bin/chromium via Playwright), served from a
loopback server with COOP ``same-origin`` + COEP ``require-corp`` (cross-origin isolated:
wasm threads allowed). Every contender runs alone in its own Web Worker (its own engine
runtime and thread pool, ended after its group), with its thread count set explicitly:

* the SDK (``sdk/js`` ``load()``) on every export of the model a browser runs: LiteRT.js on
  ``.tflite``, onnxruntime-web on ``.onnx``, TF.js on ``model.json``, each quantization
  found, on wasm and WebGPU (an engine/backend that does not start is a row with its error;
  TF.js on WebGL with ``--webgl``);
* ``ort-raw``: onnxruntime-web used as its README shows (an InferenceSession on the fp32
  ``.onnx`` with the wasm execution provider), and for the whole detect() given the SDK's
  own plain pre/post-processing (``toModelInput``, ``postprocess``, ``toDetections``).

Two things are timed per contender, in blocks the script interleaves (round-robin, the start
rotating each round, an untimed run first): ``model`` = input upload + inference + reading
both outputs back; ``detect`` = the whole detect() of the probe image (pixels read from an
ImageBitmap, preprocessing, model, post-processing). Latency is the median; FPS = 1000 /
median. Each contender's outputs on the probe input are compared with the fp32 reference
(LiteRT in Python on the fp32 ``.tflite``): max |Δ| of boxes and of scores.

``--camera`` then compares, on Chromium's fake camera (a 640x480 clip of the probe image),
the SDK's worker pipeline (``loadInWorker``, two frames in flight: frame n+1 is captured and
preprocessed while frame n runs) with the sequential ``await detect()`` loop on the main
thread, same engine (the fastest fp32 one of the table), same threads.

    python -m benchmarks.browser_peer                       # fast + accurate, threads 1 and 2
    python -m benchmarks.browser_peer --models fast --threads 2 --rounds 6 --camera

Exports are taken from ``--exports`` (default ``exports``, what ``make demo`` fills) when
made from the current weights, else exported there with the real exporter.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import (
    machine_line,
    markdown_table,
    median,
    percentile,
    publish,
    report_head,
)

HARNESS = Path(__file__).resolve().parent / "harness"
ENGINE_OF = {"tflite": "litert", "onnx": "ort", "tfjs": "tfjs"}
RAW = "ort-raw"
KINDS = ("model", "detect")
DEFAULT_CELLS = ("tflite:fp32", "tflite:int8", "onnx:fp32", "onnx:int8", "tfjs:fp32")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["fast", "accurate"],
                        help="fast, accurate or 'sdk train' folders (missing ones are skipped)")
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS),
                        help="format:quantization exports to run (format tflite, onnx, tfjs)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--backends", nargs="+", default=["wasm", "webgpu"],
                        choices=["wasm", "webgpu"], help="backends tried for every engine")
    parser.add_argument("--webgl", action="store_true",
                        help="also TF.js on WebGL (software SwiftShader when headless)")
    parser.add_argument("--rounds", type=int, default=8, help="round-robin rounds")
    parser.add_argument("--per-block", type=int, default=5, help="timed runs per block")
    parser.add_argument("--max-seconds", type=float, default=600,
                        help="stop adding rounds after this long (per group; >= 2 rounds)")
    parser.add_argument("--camera", action="store_true",
                        help="also the camera loop: worker pipeline vs sequential detect()")
    parser.add_argument("--camera-seconds", type=float, default=6.0)
    parser.add_argument("--camera-rounds", type=int, default=3)
    parser.add_argument("--exports", type=Path, default=Path("exports"),
                        help="exports reused when current, else written here")
    parser.add_argument("--calib", type=Path, help="int8 calibration images (default: the "
                        "bundled model's own data)")
    parser.add_argument("--out", type=Path,
                        default=Path("benchmarks/results/browser_peer.json"))
    return parser.parse_args()


def prepare(args: argparse.Namespace, work: Path) -> tuple[dict[str, Any], list[str]]:
    """Per model: its export folders by (format, quantization) and the probe's reference."""
    from PIL import Image

    import sdk
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    found, notes = _exports.models_to_measure(args.models)
    cells = [tuple(c.split(":", 1)) for c in args.cells]
    if ("onnx", "fp32") not in cells:
        cells.append(("onnx", "fp32"))  # what ort-raw runs
    if ("tflite", "fp32") not in cells:
        cells.append(("tflite", "fp32"))  # the reference
    probe = synthetic_probes(1)[0]
    Image.fromarray(probe).save(work / "probe.png")  # lossless: the same pixels everywhere
    models = {}
    for given, model_dir in found.items():
        name = Path(given).name  # a folder given by path: its name keys URLs and files
        print(f"[{name}] exports: {', '.join(f'{f}:{q}' for f, q in cells)}", file=sys.stderr)
        done = _exports.ensure_exports(model_dir, cells, args.exports, args.calib)
        exports = {cell: e.path for cell, e in done.items()}
        reference = sdk.load(exports[("tflite", "fp32")])
        x, _ = preprocess(probe, reference.spec.input)
        reference.backend.invoke(x)
        boxes, scores = reference.backend.read()
        (work / f"{name}-reference.json").write_text(json.dumps(
            {"boxes": np.asarray(boxes, np.float32).ravel().tolist(),
             "scores": np.asarray(scores, np.float32).ravel().tolist()}))
        models[name] = {"exports": exports, "variants": {
            f"{f}:{q}": e.variant for (f, q), e in done.items()}}
    return models, notes


def contenders(model: str, exports: dict[tuple[str, str], Path], threads: int,
               args: argparse.Namespace, first_group: bool) -> list[tuple[str, dict]]:
    """(name, setup options) of every contender of one model at one thread count."""
    out = []
    for (fmt, quant), _folder in sorted(exports.items()):
        if f"{fmt}:{quant}" not in args.cells:
            continue
        engine = ENGINE_OF[fmt]
        backends = [b for b in args.backends if b == "wasm" or first_group]
        if engine == "tfjs" and args.webgl and first_group and quant == "fp32":
            backends.append("webgl")
        for backend in backends:
            out.append((f"{engine}/{backend} {quant}", {
                "kind": "sdk", "urls": [f"/models/{model}/{fmt}-{quant}/"], "engine": engine,
                "backend": backend, "threads": threads}))
    out.append((f"{RAW}/wasm fp32", {
        "kind": RAW, "modelUrl": f"/models/{model}/onnx-fp32/model.onnx",
        "specUrl": f"/models/{model}/onnx-fp32/detector.json", "threads": threads}))
    return out


def cpu_seconds(cdp: Any) -> float:
    """CPU seconds used so far by all Chromium processes."""
    return sum(p["cpuTime"] for p in cdp.send("SystemInfo.getProcessInfo")["processInfo"])


def stats(samples: list[float]) -> dict[str, float]:
    p50 = median(samples)
    return {"p50_ms": round(p50, 2), "p90_ms": round(percentile(samples, 90), 2),
            "min_ms": round(min(samples), 2), "runs": len(samples), "fps": round(1000 / p50, 1)}


def run_group(page: Any, cdp: Any, model: str, threads: int, group: list[tuple[str, dict]],
              args: argparse.Namespace) -> dict[str, Any]:
    """Set up one model's contenders at one thread count, time them interleaved, check them."""
    facts: dict[str, Any] = {}
    for name, options in group:
        print(f"[{model} x{threads}] setting up {name}", file=sys.stderr)
        try:
            facts[name] = page.evaluate("([n, o]) => window.peer.add(n, o)",
                                        [name, {**options, "imageUrl": "/work/probe.png"}])
        except Exception as exc:  # noqa: BLE001 - a contender that fails is a row, not fatal
            facts[name] = {"error": str(exc).splitlines()[0].removeprefix("Error: ")}
    ready = [n for n in facts if "error" not in facts[n]]
    samples = {(n, k): [] for n in ready for k in KINDS}
    busy = {n: [0.0, 0.0] for n in ready}
    started = time.monotonic()
    for r in range(args.rounds):
        for name in ready[r % len(ready):] + ready[:r % len(ready)]:
            cpu0, wall0 = cpu_seconds(cdp), time.monotonic()
            for kind in KINDS:
                samples[(name, kind)] += page.evaluate(
                    "([n, k, r]) => window.peer.block(n, k, r)", [name, kind, args.per_block])
            busy[name][0] += cpu_seconds(cdp) - cpu0
            busy[name][1] += time.monotonic() - wall0
        if r >= 1 and time.monotonic() - started > args.max_seconds:
            print(f"stopped after {r + 1} rounds (--max-seconds)", file=sys.stderr)
            break
    result = {}
    for name in facts:
        row = dict(facts[name])
        if name in ready:
            row.update({kind: stats(samples[(name, kind)]) for kind in KINDS})
            row["cores_busy"] = round(busy[name][0] / busy[name][1], 2)
            boxes, scores = page.evaluate("([n, u]) => window.peer.compare(n, u)",
                                          [name, f"/work/{model}-reference.json"])
            row["max_abs_diff"] = {"boxes": boxes, "scores": scores}
        result[name] = row
    page.evaluate("window.peer.clear()")
    raw = result.get(f"{RAW}/wasm fp32", {})
    for row in result.values():
        for kind in KINDS:
            if kind in row and kind in raw:
                row[kind]["x_ort_raw"] = round(raw[kind]["p50_ms"] / row[kind]["p50_ms"], 2)
    return {"seconds": round(time.monotonic() - started, 1), "contenders": result}


def best_sdk(group: dict[str, Any], kind: str, quantization: str | None = None,
             ) -> tuple[str, dict] | None:
    """The SDK contender with the lowest median ``kind`` latency (of ``quantization``)."""
    rows = [(n, r) for n, r in group["contenders"].items()
            if kind in r and not n.startswith(RAW)
            and (quantization is None or n.endswith(f" {quantization}"))]
    return min(rows, key=lambda nr: nr[1][kind]["p50_ms"]) if rows else None


def camera_loop(page: Any, model: str, threads: int, name: str,
                args: argparse.Namespace) -> dict[str, Any]:
    """FPS on the fake camera: worker pipeline vs the sequential loops, interleaved."""
    engine_backend, quant = name.split(" ")
    engine, backend = engine_backend.split("/")
    fmt = next(f for f, e in ENGINE_OF.items() if e == engine)
    urls = [f"/models/{model}/{fmt}-{quant}/"]
    info = page.evaluate("([u, o]) => window.peer.cameraSetup(u, o)",
                         [urls, {"engine": engine, "backend": backend, "threads": threads}])
    modes = ("sequential", "worker1", "pipelined")
    fps: dict[str, list[float]] = {m: [] for m in modes}
    stages: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for r in range(args.camera_rounds):
        for mode in modes[r % 3:] + modes[:r % 3]:
            out = page.evaluate("([m, s]) => window.peer.cameraLoop(m, s)",
                                [mode, args.camera_seconds])
            fps[mode].append(out["fps"])
            stages[mode].append(out.get("stagesMs", {}))
    page.evaluate("window.peer.cameraClear()")
    medians = {m: round(median(v), 1) for m, v in fps.items()}
    return {"contender": name, "threads": threads, "fps": medians, "fps_rounds": fps,
            "stages_ms": stages,  # per round: median ms of each stage (detector lastTimings)
            "x_sequential": round(medians["pipelined"] / medians["sequential"], 2),
            "x_worker1": round(medians["pipelined"] / medians["worker1"], 2),
            "engine": info["worker"]["engine"], "backend": info["worker"]["backend"],
            "threads_used": info["worker"]["threads"]}


def measure(models: dict[str, Any], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Serve harness, runtime and exports; drive Chromium; every group's results."""
    from tests.runtime.browser import (
        StaticServer,
        chromium,
        import_map,
        module_page,
        runtime_routes,
    )
    from tests.web_demo.fake_camera import camera_frame, write_y4m

    routes = {**runtime_routes(), "/harness/": HARNESS, "/work/": work}
    for model, found in models.items():
        for (fmt, quant), folder in found["exports"].items():
            routes[f"/models/{model}/{fmt}-{quant}/"] = folder
    clip = write_y4m(work / "camera.y4m", camera_frame(work / "probe.png"), frames=30, fps=30)
    camera_args = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={clip}")
    page_html = module_page('import "/harness/peer.js";', import_map())
    results: dict[str, Any] = {}
    cameras: list[dict[str, Any]] = []
    with StaticServer(routes, {"/index.html": page_html}) as server, \
            chromium(camera_args) as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url("/index.html"))
        page.wait_for_function("window.ready === true", timeout=60_000)
        env = page.evaluate("""() => ({userAgent: navigator.userAgent,
            hardwareConcurrency: navigator.hardwareConcurrency,
            crossOriginIsolated: globalThis.crossOriginIsolated})""")
        env["chromium"] = browser.version
        cdp = browser.new_browser_cdp_session()
        for model, found in models.items():
            results[model] = {"variants": found["variants"], "groups": {}}
            for i, threads in enumerate(args.threads):
                group = contenders(model, found["exports"], threads, args, i == 0)
                done = run_group(page, cdp, model, threads, group, args)
                results[model]["groups"][str(threads)] = done
                if args.camera:
                    best = best_sdk(done, "model", "fp32")
                    if best:
                        print(f"[{model} x{threads}] camera loop on {best[0]}", file=sys.stderr)
                        cameras.append({"model": model,
                                        **camera_loop(page, model, threads, best[0], args)})
        env["page_errors"] = errors
    return {"browser": env, "models": results, "camera": cameras}


def headline(report: dict[str, Any]) -> list[str]:
    """The ratios the issue sets targets for, per model and thread count."""
    lines = []
    for model, result in report["models"].items():
        for threads, group in result["groups"].items():
            raw = group["contenders"].get(f"{RAW}/wasm fp32", {})
            for kind, target in (("model", 2.0), ("detect", 1.5)):
                for quant in ("fp32", None):
                    best = best_sdk(group, kind, quant)
                    if best and kind in raw:
                        name, row = best
                        lines.append(
                            f"{model}, {threads} thread(s), {kind}: best SDK "
                            f"{'fp32 ' if quant else ''}= {name} {row[kind]['p50_ms']} ms vs "
                            f"ort-raw {raw[kind]['p50_ms']} ms: {row[kind]['x_ort_raw']}x "
                            f"(target >= {target}x)")
    for cam in report["camera"]:
        fps = cam["fps"]
        lines.append(f"camera, {cam['model']}, {cam['threads']} thread(s), {cam['contender']}: "
                     f"pipelined {fps['pipelined']} FPS vs sequential await detect() "
                     f"{fps['sequential']} FPS: {cam['x_sequential']}x (target >= 1.3x); "
                     f"vs the worker awaited one frame at a time {fps['worker1']} FPS: "
                     f"{cam['x_worker1']}x")
    return lines


def table(report: dict[str, Any]) -> str:
    """One table: every model x threads x engine/backend x quantization."""
    head = ("model", "threads", "contender", "version", "threads used", "model p50 ms",
            "model FPS", "x ort-raw", "detect p50 ms", "detect FPS", "x ort-raw (detect)",
            "max |Δ| boxes", "max |Δ| scores", "cores busy")
    rows = []
    for model, result in report["models"].items():
        for threads, group in result["groups"].items():
            for name, c in group["contenders"].items():
                if "error" in c:
                    rows.append((model, threads, name, *[""] * (len(head) - 4),
                                 f"error: {c['error'][:90]}"))
                    continue
                diff = c.get("max_abs_diff", {})
                rows.append((model, threads, name, c.get("version"), c.get("threads"),
                             c["model"]["p50_ms"], c["model"]["fps"],
                             c["model"].get("x_ort_raw"), c["detect"]["p50_ms"],
                             c["detect"]["fps"], c["detect"].get("x_ort_raw"),
                             _fmt(diff.get("boxes")), _fmt(diff.get("scores")),
                             c.get("cores_busy")))
    return markdown_table(head, rows)


def _fmt(value: float | None) -> str | None:
    return None if value is None else f"{value:.2g}"


def main() -> None:
    args = parse_args()
    args.exports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="browser-peer-") as tmp:
        work = Path(tmp)
        models, notes = prepare(args, work)
        measured = measure(models, work, args)
    report = {
        **report_head("browser_peer", "playwright", "onnxruntime", "ai-edge-litert"),
        "what": "per contender, alone in a Web Worker: 'model' = input upload + inference + "
                "readback of both outputs; 'detect' = the whole detect() of the probe image "
                "(pixels from an ImageBitmap, preprocessing, model, post-processing); medians "
                "of interleaved blocks; max |Δ| against LiteRT (Python) on the fp32 .tflite",
        "settings": {"threads": args.threads, "rounds": args.rounds,
                     "per_block": args.per_block, "cells": args.cells,
                     "backends": args.backends, "webgl": args.webgl,
                     "probe": "sdk.probes.synthetic_probes(1)",
                     "camera": {"seconds": args.camera_seconds, "rounds": args.camera_rounds,
                                "clip": "640x480, 30 fps, the probe image"}
                     if args.camera else None},
        **measured, "notes": notes,
    }
    report["headline"] = headline(report)
    env = report["browser"]
    publish(report, args.out,
            [f"Chromium {env['chromium']}, crossOriginIsolated={env['crossOriginIsolated']}, "
             f"hardwareConcurrency={env['hardwareConcurrency']}; {machine_line(report)}"],
            table(report), [*report["headline"], *notes])


if __name__ == "__main__":
    main()
