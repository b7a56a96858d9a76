"""The SDK's browser runtime (TF.js) against onnxruntime-web on the same model, in Chromium.

One headless Chromium page (Debian's /usr/bin/chromium via Playwright), served from a
loopback server with COOP ``same-origin`` + COEP ``require-corp`` so the page is
cross-origin isolated and both WASM runtimes may use threads. Contenders, on the same
weights and the same preprocessed probe image:

* the SDK runtime (``sdk/js``, TF.js 4.22) on each ``--backends`` (wasm, webgl: software
  SwiftShader when headless without a GPU, cpu: pure JS, slow) from the TF.js fp32 export;
* onnxruntime-web (wasm EP, SIMD + threads) on an ONNX conversion (tf2onnx) of the
  SavedModel export of the same weights.

Timed: tensor upload + inference + reading both outputs back (``--e2e`` adds the whole
``detect()``, ORT with the SDK's own pre/post-processing). Contenders alternate in blocks
(round-robin, rotating the start) so machine noise hits them alike; each block starts
with an untimed run. FPS is 1000 / median latency. Both WASM runtimes are asked for
``--threads`` (default: navigator.hardwareConcurrency); the table shows the threads each
reports using, the workers it spawned and the cores it kept busy (Chromium CPU time / wall
time over its blocks), and each contender's largest output difference from tfjs-wasm.

    python -m benchmarks.browser_peer --model fast [accurate] [--backends wasm webgl]
    python -m benchmarks.browser_peer --model runs/my_model --rounds 20 --e2e

Existing ``exports/<model>-tfjs-fp32`` and ``-savedmodel-fp32`` are reused when they hold
the current weights; otherwise they are exported into ``--work`` (a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _exports
from benchmarks._common import markdown_table, median, percentile, report_head, write_json

HARNESS = Path(__file__).resolve().parent / "harness"
ORT_WEB = "onnxruntime-web"
ORT_ENTRY = "ort.wasm.min.mjs"  # the wasm-EP-only ES module build
REFERENCE = "tfjs-wasm"
PEER = "ort-wasm"


@dataclass(frozen=True)
class ModelFiles:
    """The two artifacts of one model's weights: TF.js fp32 folder and its ONNX twin."""

    name: str
    tfjs: Path
    onnx: Path
    weights_sha256: str | None
    reused: bool


def _current_exports(name: str, sha: str, exports: Path) -> tuple[Path, Path] | None:
    """``exports/<name>-tfjs-fp32`` and ``-savedmodel-fp32`` if both hold weights ``sha``."""
    found = [_exports.current_export(exports, name, fmt, "fp32", sha)
             for fmt in ("tfjs", "savedmodel")]
    if None in found:
        return None
    return found[0].path, found[1].path


def prepare_model(model_dir: Path, exports: Path, work: Path, opset: int) -> ModelFiles:
    """The TF.js fp32 export (reused or made now) and an ONNX conversion of the same weights."""
    from exporters.source import source_name
    from sdk.models.io import weights_sha256

    name, sha = source_name(model_dir), weights_sha256(model_dir)
    onnx = work / f"{name}.onnx"
    found = _current_exports(name, sha, exports)
    if found is not None:
        tfjs, saved = found
        _exports.tf2onnx(saved, onnx, opset)
    else:
        from exporters.export import export
        from exporters.source import open_source

        with open_source(model_dir) as source:
            print(f"[{name}] exporting TF.js fp32 into {work} (no current export in "
                  f"{exports})", file=sys.stderr)
            tfjs = export(source, "tfjs", "fp32", out_root=work, force=True).out_dir
            _exports.tf2onnx(source.saved_model, onnx, opset)
    return ModelFiles(name, tfjs, onnx, sha, found is not None)


def available(names: list[str], exports: Path, work: Path, opset: int,
              ) -> tuple[list[ModelFiles], list[str]]:
    """Prepare each model; one with no weights yet (Accurate while it trains) is a note."""
    found, skipped = _exports.models_to_measure(names)
    return [prepare_model(d, exports, work, opset) for d in found.values()], skipped


def page_html(imports: dict[str, Any]) -> str:
    """The harness page: Worker log, import map, then the harness module."""
    return ("<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
            "<title>browser_peer</title><script src='/harness/worker_log.js'></script>"
            f"<script type='importmap'>{json.dumps(imports)}</script>"
            "<script type='module' src='/harness/peer.js'></script></head><body></body></html>")


def contenders(backends: list[str], e2e: bool) -> list[tuple[str, dict[str, Any]]]:
    """(name, harness call) of every contender, the reference (tfjs wasm) first if present."""
    out = [(f"tfjs-{b}", {"kind": "addTfjs", "backend": b}) for b in backends]
    out.append((PEER, {"kind": "addOrt"}))
    if e2e:
        out += [(f"tfjs-{backends[0]}/detect", {"kind": "addTfjs", "backend": backends[0],
                                                "detect": True}),
                (f"{PEER}/detect", {"kind": "addOrt", "detect": True})]
    return out


def stats(samples: list[float]) -> dict[str, float]:
    """Distribution of one contender's latencies (ms) and FPS from the median."""
    p50 = median(samples)
    return {"p50_ms": round(p50, 2), "p90_ms": round(percentile(samples, 90), 2),
            "min_ms": round(min(samples), 2), "max_ms": round(max(samples), 2),
            "mean_ms": round(sum(samples) / len(samples), 2), "runs": len(samples),
            "fps": round(1000 / p50, 2)}


def cpu_seconds(cdp: Any) -> float:
    """CPU seconds used so far by all Chromium processes (renderer threads, GPU process)."""
    return sum(p["cpuTime"] for p in cdp.send("SystemInfo.getProcessInfo")["processInfo"])


def setup(page: Any, files: ModelFiles, args: argparse.Namespace) -> dict[str, Any]:
    """Load every contender of one model in the page: its facts, or why it failed."""
    base = f"/models/{files.name}"
    facts: dict[str, Any] = {}
    for name, call in contenders(args.backends, args.e2e):
        kind = call.pop("kind")
        model_url = f"{base}/{files.onnx.name}" if kind == "addOrt" else f"{base}/tfjs/"
        options = {**call, "name": name, "modelUrl": model_url, "threads": args.threads,
                   "specUrl": f"{base}/tfjs/detector.json", "imageUrl": "/probe/probe.png"}
        print(f"[{files.name}] setting up {name}", file=sys.stderr)
        try:
            facts[name] = page.evaluate(f"(o) => window.peer.{kind}(o)", options)
        except Exception as exc:  # noqa: BLE001 - a backend that fails is reported, not fatal
            facts[name] = {"error": str(exc).splitlines()[0]}
    return facts


def interleave(page: Any, cdp: Any, ready: list[str], args: argparse.Namespace,
               ) -> dict[str, dict[str, Any]]:
    """Round-robin blocks (start rotating each round): latency stats and cores busy.

    ``cores_busy`` = Chromium CPU time / wall time over a contender's blocks: the threads
    that really ran (10 ms CPU clock; includes the untimed run of each block).
    """
    samples: dict[str, list[float]] = {n: [] for n in ready}
    busy = {n: [0.0, 0.0] for n in ready}  # browser CPU seconds, wall seconds
    started = time.monotonic()
    for r in range(args.rounds):
        for name in ready[r % len(ready):] + ready[:r % len(ready)]:
            cpu0, wall0 = cpu_seconds(cdp), time.monotonic()
            samples[name] += page.evaluate("([n, k]) => window.peer.block(n, k)",
                                           [name, args.per_block])
            busy[name][0] += cpu_seconds(cdp) - cpu0
            busy[name][1] += time.monotonic() - wall0
        if r >= 1 and time.monotonic() - started > args.max_seconds:
            print(f"stopped after {r + 1} rounds (--max-seconds)", file=sys.stderr)
            break
    return {n: {**stats(samples[n]), "cores_busy": round(busy[n][0] / busy[n][1], 2)}
            for n in ready}


def run_model(page: Any, cdp: Any, files: ModelFiles, args: argparse.Namespace,
              ) -> dict[str, Any]:
    """Set up, time interleaved, then check outputs against tfjs-wasm and speed vs ORT."""
    facts = setup(page, files, args)
    ready = [n for n in facts if "error" not in facts[n]]
    started = time.monotonic()
    timed = interleave(page, cdp, ready, args)
    seconds = round(time.monotonic() - started, 1)
    result = {n: {**facts[n], **timed.get(n, {})} for n in facts}
    for name in ready:
        if REFERENCE in ready and not name.endswith("/detect"):
            boxes, scores = page.evaluate("([a, b]) => window.peer.compare(a, b)",
                                          [name, REFERENCE])
            result[name]["max_abs_diff_vs_tfjs_wasm"] = {"boxes": boxes, "scores": scores}
        peer = PEER + ("/detect" if name.endswith("/detect") else "")
        if peer in ready:
            result[name]["speed_vs_ort"] = round(
                result[peer]["p50_ms"] / result[name]["p50_ms"], 3)
    return {"weights_sha256": files.weights_sha256, "reused_exports": files.reused,
            "onnx_mb": round(files.onnx.stat().st_size / 2**20, 3),
            "measured_seconds": seconds, "contenders": result}


def measure(models: list[ModelFiles], probe: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Serve the harness and models, drive Chromium, return browser facts and results."""
    from tests.runtime.browser import REPO, StaticServer, chromium, import_map, runtime_routes

    ort_dist = REPO / "node_modules" / ORT_WEB / "dist"
    if not (ort_dist / ORT_ENTRY).is_file():
        raise SystemExit(f"{ort_dist / ORT_ENTRY} missing: run npm install")
    imports = import_map()
    imports["imports"][ORT_WEB] = f"/vendor/ort/{ORT_ENTRY}"
    routes = {**runtime_routes(), "/vendor/ort/": ort_dist, "/harness/": HARNESS,
              "/probe/": probe.parent}
    for files in models:
        routes[f"/models/{files.name}/tfjs/"] = files.tfjs
        routes[f"/models/{files.name}/"] = files.onnx.parent
    with StaticServer(routes, {"/index.html": page_html(imports)}) as server, \
            chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url("/index.html"))
        page.wait_for_function("window.ready === true", timeout=60_000)
        env = page.evaluate("""() => ({userAgent: navigator.userAgent,
            hardwareConcurrency: navigator.hardwareConcurrency,
            crossOriginIsolated: globalThis.crossOriginIsolated,
            secureContext: globalThis.isSecureContext, webgl: window.peer.webglInfo()})""")
        env["chromium"] = browser.version
        cdp = browser.new_browser_cdp_session()
        results = {files.name: run_model(page, cdp, files, args) for files in models}
        env["workers"] = page.evaluate("window.workerLog")
        env["page_errors"] = errors
    return {"browser": env, "models": results}


def markdown(report: dict[str, Any]) -> str:
    """One table per model, then the headline ratio."""
    head = ("contender", "threads", "workers", "cores busy", "SIMD", "load ms", "first ms",
            "p50 ms", "p90 ms", "FPS", "x ORT", "max abs diff scores", "runs")
    out = []
    for model, result in report["models"].items():
        rows = []
        for name, c in result["contenders"].items():
            if "error" in c:
                rows.append((name, *[""] * (len(head) - 2), f"error: {c['error']}"))
                continue
            diff = c.get("max_abs_diff_vs_tfjs_wasm", {}).get("scores")
            threads = "GPU" if c["backend"] in ("webgl", "webgpu") else c.get("threads")
            rows.append((name, threads, c["workers"], c["cores_busy"], c.get("simd"),
                         round(c["loadMs"]), round(c["warmupMs"]), c["p50_ms"], c["p90_ms"],
                         c["fps"], c.get("speed_vs_ort"), diff, c["runs"]))
        out += [f"### {model} (ONNX {result['onnx_mb']} MB, measured "
                f"{result['measured_seconds']} s)", "", markdown_table(head, rows), ""]
        for name, c in result["contenders"].items():
            if c.get("backend") == "wasm" and c["threads"] < c.get("threadsRequested", 0):
                out.append(f"* {name}: {c['threadsRequested']} threads requested, "
                           f"{c['threads']} used" + (" (tensorflow/tfjs#8513)"
                                                     if name.startswith("tfjs") else ""))
        ours, peer = result["contenders"].get(REFERENCE, {}), result["contenders"].get(PEER, {})
        if "fps" in ours and "fps" in peer:
            out.append(f"{model}: SDK TF.js wasm {ours['fps']} FPS vs onnxruntime-web wasm "
                       f"{peer['fps']} FPS: ratio {ours['fps'] / peer['fps']:.2f} "
                       f"({ours['threads']} vs {peer['threads']} threads).\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["fast"],
                        help="fast, accurate, a 'sdk train' folder (several: one after another)")
    parser.add_argument("--backends", nargs="+", default=["wasm", "webgl"],
                        choices=["wasm", "webgl", "cpu", "webgpu"], help="SDK TF.js backends")
    parser.add_argument("--threads", type=int, default=0,
                        help="WASM threads for both runtimes (0: navigator.hardwareConcurrency)")
    parser.add_argument("--rounds", type=int, default=10, help="round-robin rounds")
    parser.add_argument("--per-block", type=int, default=5, help="timed runs per block")
    parser.add_argument("--max-seconds", type=float, default=600,
                        help="stop adding rounds after this long (per model; >= 2 rounds)")
    parser.add_argument("--e2e", action="store_true",
                        help="also time the whole detect() (pre + inference + NMS)")
    parser.add_argument("--exports", type=Path, default=Path("exports"),
                        help="where current TF.js/SavedModel fp32 exports are looked up")
    parser.add_argument("--work", type=Path, help="keep ONNX files / new exports here")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/browser_peer.json"))
    args = parser.parse_args()
    if args.backends[0] != "wasm" and "wasm" in args.backends:
        args.backends.remove("wasm")
        args.backends.insert(0, "wasm")  # tfjs-wasm is the reference of the output check

    from sdk.probes import synthetic_probes

    with tempfile.TemporaryDirectory(prefix="browser-peer-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        from PIL import Image

        probe = work / "probe" / "probe.png"
        probe.parent.mkdir(exist_ok=True)
        Image.fromarray(synthetic_probes(1)[0]).save(probe)  # lossless: same pixels everywhere
        models, skipped = available(args.model, args.exports, work, args.opset)
        measured = measure(models, probe, args)
    report = {
        **report_head("browser_peer", "tensorflow", "tensorflowjs", "tf2onnx", "onnx",
                      "playwright"),
        "what": "tensor upload + inference + readback of both outputs (ms); '/detect' rows: "
                "the whole detect() incl. pre/post-processing",
        "settings": {"threads_requested": args.threads or "hardwareConcurrency",
                     "rounds": args.rounds, "per_block": args.per_block,
                     "backends": args.backends, "probe": "sdk.probes.synthetic_probes(1)"},
        **measured, "skipped": skipped,
    }
    report["versions"]["opset"] = args.opset
    write_json(args.out, report)
    env = report["browser"]
    print(f"Chromium {env['chromium']}, crossOriginIsolated={env['crossOriginIsolated']}, "
          f"hardwareConcurrency={env['hardwareConcurrency']}, WebGL: "
          f"{env['webgl'].get('renderer')}; {report['machine']['cpu']}, "
          f"load avg {report['machine'].get('loadavg_1m')}\n")
    print(markdown(report))
    for note in skipped:
        print(f"* {note}")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
