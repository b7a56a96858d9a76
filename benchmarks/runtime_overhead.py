"""What the SDK runtime costs on top of bare LiteRT: ``detect()`` end to end vs ``invoke()``.

    .venv/bin/python -m benchmarks.runtime_overhead [--models fast accurate] [--threads 2]
        [--runs 50] [--data data/synth] [--exports exports] [--images street.jpg ...]
        [--clock wall|cpu]

For each model (Fast, Accurate, or a ``sdk train`` folder), its TFLite fp32 and int8
exports in two variants, ``float`` (float32 input, the default export) and ``uint8``
(``--uint8-input``: the letterboxed pixels go in as they are, normalization runs in the
graph), and four test images (fewest and most annotated objects in ``--data``'s split, the
latter resized to a 640x480 camera frame, and pre-scaled to the model input, as a camera
capturing at model resolution would deliver it: no resize left to do):

* ``e2e``: ``sdk.load(export).detect(image)`` on the decoded RGB array: letterbox resize,
  normalization (float variant), ``invoke``, readback, threshold + NMS, boxes back to image
  pixels;
* ``bare``: ``interpreter.invoke()`` of a plain LiteRT ``Interpreter`` (same file, same
  thread count) whose input was set once to the same preprocessed tensor.

All four contenders of a cell (e2e and bare of both variants) are interleaved call by call
(order alternating every round), so machine noise hits them alike. ``overhead`` is the
median of the per-round differences e2e - bare of one variant; the target is <= 0.5 ms on
the 640x480 frame. ``overhead_vs_float_bare`` is e2e of the uint8 variant minus bare of the
float one (the in-graph normalization counted as overhead). ``--clock cpu`` (with
``--threads 1``, where LiteRT computes on the calling thread) times the CPU time of that
thread instead of wall time: on a shared, loaded machine wall time mostly measures waiting
for a core (the per-stage times stay wall time). Prints a Markdown table and writes
``benchmarks/results/runtime_overhead.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import RESULTS, markdown_table, median, report_head
from benchmarks._exports import Probe
from benchmarks._timing import interleaved

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_MS = 0.5  # detect() <= bare invoke + 0.5 ms on a 640x480 frame
FRAME = (640, 480)
QUANTS = ("fp32", "int8")
VARIANTS: dict[str, dict[str, Any]] = {"float": {}, "uint8": {"uint8_input": True}}
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
STAGES = ("preprocess", "inference", "readback", "postprocess")
NOTES = [
    "Preprocessing is one Pillow antialiased bilinear resize (fromarray + resize + asarray) "
    "and one pass that writes the pixels, normalized for the float variant, straight into "
    "LiteRT's input buffer (no canvas, no float temporary, no set_tensor copy). The resize "
    "stays: training, evaluation, calibration and the browser runtime use the same Pillow "
    "resize bit for bit (a faster or different one would feed the model other pixels), and "
    "a bare-LiteRT user has to resize too. The pre-scaled row (frame already at model "
    "resolution) shows the overhead without it.",
    "uint8 variant: the export takes uint8 pixels and normalizes in the graph (CAST, SUB, "
    "MUL run by LiteRT inside invoke), so its bare invoke includes what the float variant "
    "does in Python; overhead_vs_float_bare compares it with the float model's invoke.",
]


def findings(rows: list[dict[str, Any]]) -> list[str]:
    """Per model, quantization and variant on the 640x480 frame: overhead against target."""
    out = []
    for r in rows:
        if r["image"]["name"] != f"many@{FRAME[0]}x{FRAME[1]}":
            continue
        for variant, v in r["variants"].items():
            out.append(f"{r['model']} {r['quantization']} {variant} {r['threads']}t: detect() "
                       f"costs bare invoke + {v['overhead_ms']:.2f} ms on a 640x480 frame "
                       f"(bare {v['bare_ms']:.2f} ms, preprocess {v['stages_ms']['preprocess']:.2f}"
                       f", postprocess {v['stages_ms']['postprocess']:.2f}; target "
                       f"+{TARGET_MS} ms {'met' if v['meets_target'] else 'missed'})")
    return out


def _bare(interpreter: Any, artifact: Path, threads: int, x: np.ndarray) -> Any:
    bare = interpreter(model_path=str(artifact), num_threads=threads)
    bare.allocate_tensors()
    bare.set_tensor(bare.get_input_details()[0]["index"], x)
    return bare


def measure_cell(dets: dict[str, Any], bares: dict[str, Any], image: Any, runs: int,
                 warmup: int, clock: Any = time.perf_counter) -> dict[str, Any]:
    """Interleaved e2e and bare timings of every variant on one image."""
    stages: dict[str, list[Any]] = {v: [] for v in dets}
    contenders = {}
    for v, det in dets.items():
        contenders[f"e2e_{v}"] = lambda d=det: d.detect(image)
        contenders[f"bare_{v}"] = bares[v].invoke

    def keep_stages(name: str) -> None:
        if name.startswith("e2e_"):
            v = name[4:]
            stages[v].append(dets[v].last_timings)

    samples = interleaved(contenders, runs, warmup, after=keep_stages, clock=clock)
    out: dict[str, Any] = {}
    for v, det in dets.items():
        e2e, bare = samples[f"e2e_{v}"], samples[f"bare_{v}"]
        overhead = median(e - b for e, b in zip(e2e, bare, strict=True))
        out[v] = {"e2e_ms": median(e2e), "bare_ms": median(bare), "overhead_ms": overhead,
                  "ratio": median(e / b for e, b in zip(e2e, bare, strict=True)),
                  "stages_ms": {s: median(getattr(t, s) for t in stages[v]) for s in STAGES},
                  "detections": len(det.detect_arrays(image)),
                  "meets_target": overhead <= TARGET_MS}
    if {"float", "uint8"} <= set(dets):
        out["uint8"]["overhead_vs_float_bare_ms"] = median(
            e - b for e, b in zip(samples["e2e_uint8"], samples["bare_float"], strict=True))
    return {"variants": out, "runs": runs}


def resized(probe: Probe, size: tuple[int, int], name: str, note: str) -> Probe:
    """``probe`` resized to ``size`` (w, h) with Pillow's bilinear filter."""
    from PIL import Image

    image = np.asarray(Image.fromarray(probe.image).resize(size, Image.BILINEAR))
    return Probe(name, image, probe.objects, f"{probe.source} {note}")


def at_model_size(probe: Probe, size: tuple[int, int]) -> Probe:
    """``probe`` pre-scaled to fit the model input: a camera capturing at model resolution.

    Its letterbox resize is then a copy, so the row shows the overhead without resizing.
    """
    h, w = probe.image.shape[:2]
    scale = min(size[1] / w, size[0] / h)
    new = (round(w * scale), round(h * scale))
    return resized(probe, new, f"{probe.name}@{new[0]}x{new[1]}", "pre-scaled to the model input")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Export, measure every cell, return the report."""
    import sdk
    from sdk.preprocess import preprocess
    from sdk.runtime.tflite import interpreter_class

    models, notes = _exports.models_to_measure(args.models)
    probes = _exports.few_and_many(args.data, args.split, args.images)
    frame = resized(probes[1], FRAME, f"many@{FRAME[0]}x{FRAME[1]}", "as a 640x480 frame")
    interpreter, library = interpreter_class()
    rows, exports = [], {}
    for name, model_dir in models.items():
        made = {v: _exports.ensure_exports(
            model_dir, [("tflite", q) for q in QUANTS],
            args.exports if v == "float" else args.exports / f"{v}-input", args.data, opts)
            for v, opts in VARIANTS.items()}
        for quant in QUANTS:
            for v in VARIANTS:
                exp = made[v][("tflite", quant)]
                exports[f"{name}-{quant}-{v}"] = {"path": str(exp.path), "variant": exp.variant,
                                                  "status": exp.status}
            for threads in args.threads:
                dets = {v: sdk.load(made[v][("tflite", quant)].path, num_threads=threads)
                        for v in VARIANTS}
                size = dets["float"].spec.input.size
                for probe in [*probes, frame, at_model_size(probes[1], size)]:
                    bares = {v: _bare(interpreter, made[v][("tflite", quant)].artifact, threads,
                                      preprocess(probe.image, det.spec.input)[0])
                             for v, det in dets.items()}
                    cell = measure_cell(dets, bares, probe.image, args.runs, args.warmup,
                                        CLOCKS[args.clock])
                    rows.append({"model": name, "quantization": made["float"][
                        ("tflite", quant)].variant, "threads": threads,
                        "image": probe.describe(), "input": list(size), **cell})
                    print(f"[{name} {quant} {threads}t {probe.name}] overhead " + ", ".join(
                        f"{v} {c['overhead_ms']:.2f} ms" for v, c in cell["variants"].items()),
                        file=sys.stderr)
    report = report_head("runtime_overhead", "numpy", "pillow", "ai-edge-litert", "tensorflow")
    report["versions"]["interpreter"] = library
    return {
        **report, "target_overhead_ms": TARGET_MS, "frame": list(FRAME),
        "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
        "clock": args.clock,
        "timed": {"e2e": "Detector.detect(decoded RGB array) -> list[Detection]",
                  "bare": "Interpreter.invoke() (input set beforehand)"},
        "data": f"{args.data} ({args.split})", "exports": exports, "rows": rows,
        "notes": notes + NOTES, "findings": findings(rows),
    }


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report: one line per cell and variant."""
    headers = ("model", "quant", "threads", "image", "dets", "input", "e2e ms", "bare ms",
               "overhead ms", "pre ms", "post ms", "vs float bare ms", "<= +0.5 ms")
    rows = []
    for r in report["rows"]:
        for v, c in r["variants"].items():
            rows.append((r["model"], r["quantization"], r["threads"], r["image"]["name"],
                         c["detections"], v, c["e2e_ms"], c["bare_ms"], c["overhead_ms"],
                         c["stages_ms"]["preprocess"], c["stages_ms"]["postprocess"],
                         c.get("overhead_vs_float_bare_ms", c["overhead_ms"]),
                         "yes" if c["meets_target"] else "no"))
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = _exports.runtime_parser(
        __doc__, RESULTS / "runtime_overhead.json", threads=[os.cpu_count() or 1], runs=50,
        warmup=5, data_help="dataset: probe images from --split, calibration from its train split")
    parser.add_argument("--images", type=Path, nargs="*", default=[], help="extra images")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or the calling thread's CPU time (needs --threads 1)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != [1]:
        parser.error("--clock cpu needs --threads 1 (other threads' work would be missed)")
    _exports.measure_and_publish(args, run, table, ("notes", "findings"))


if __name__ == "__main__":
    main()
