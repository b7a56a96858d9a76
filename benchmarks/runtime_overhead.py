"""What the SDK runtime costs on top of bare LiteRT: ``detect()`` end to end vs ``invoke()``.

    .venv/bin/python -m benchmarks.runtime_overhead [--models fast accurate] [--threads 2]
        [--runs 50] [--data data/synth] [--exports exports] [--images street.jpg ...]

For each model (Fast, Accurate, or a ``sdk train`` folder), its TFLite fp32 and int8
exports, and three test images (fewest and most annotated objects in ``--data``'s split,
and the latter pre-scaled to the model input, as a camera capturing at model resolution
would deliver it: no resize left to do):

* ``e2e``: ``sdk.load(export).detect(image)`` on the decoded RGB array: letterbox resize,
  normalization, ``invoke``, readback, threshold + NMS, boxes back to image pixels;
* ``bare``: ``interpreter.invoke()`` of a plain LiteRT ``Interpreter`` (same file, same
  thread count) whose input was set once to the same preprocessed tensor;
* ``bare_io``: the same plus ``set_tensor`` and ``get_tensor`` of both outputs, the least a
  bare-LiteRT user runs per frame.

The three are interleaved call by call (order alternating every round), so machine noise
hits them alike. ``ratio`` is the median of the per-round ratios e2e/bare; target <= 1.15.
Prints a Markdown table and writes ``benchmarks/results/runtime_overhead.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import RESULTS, machine_line, markdown_table, median, publish, report_head
from benchmarks._exports import Probe
from benchmarks._timing import interleaved

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET = 1.15
QUANTS = ("fp32", "int8")
STAGES = ("preprocess", "inference", "readback", "postprocess")
NOTES = [
    "Preprocessing is mostly Pillow: fromarray + antialiased bilinear resize + asarray. "
    "The resize stays: training, evaluation, calibration and the browser runtime "
    "use the same Pillow resize bit for bit (a faster or different one would feed the model "
    "other pixels), and a bare-LiteRT user has to resize too. The pre-scaled row (frame "
    "already at model resolution) shows the overhead without it.",
]


def findings(rows: list[dict[str, Any]]) -> list[str]:
    """Per model and quantization: the fixed cost of a full frame, and the inference time
    at which that cost would fit the target (computed from this run)."""
    out = []
    for r in rows:
        if r["image"]["name"] != "many":  # the busiest full-size frame
            continue
        fixed = r["e2e_ms"] - r["bare_ms"]
        needed = fixed / (TARGET - 1)
        out.append(f"{r['model']} {r['quantization']} {r['threads']}t: {fixed:.1f} ms of "
                   f"pre/post-processing per {'x'.join(map(str, r['image']['size']))} frame; "
                   f"the {TARGET}x target "
                   f"needs inference of {needed:.0f} ms or more, this model takes "
                   f"{r['bare_ms']:.1f} ms ({'met' if r['meets_target'] else 'missed'})")
    return out


def measure_cell(det: Any, bare: Any, image: Any, runs: int, warmup: int) -> dict[str, Any]:
    """Interleaved e2e / bare / bare_io timings of one detector on one image."""
    from sdk.preprocess import preprocess

    x, _ = preprocess(image, det.spec.input)
    in_idx = bare.get_input_details()[0]["index"]
    out_idx = [d["index"] for d in bare.get_output_details()]
    bare.set_tensor(in_idx, x)

    def bare_io() -> None:
        bare.set_tensor(in_idx, x)
        bare.invoke()
        for i in out_idx:
            bare.get_tensor(i)

    stages: list[Any] = []

    def keep_stages(name: str) -> None:
        if name == "e2e":
            stages.append(det.last_timings)

    # bare's input stays x throughout: only bare_io sets it, to the same tensor
    samples = interleaved({"e2e": lambda: det.detect(image), "bare": bare.invoke,
                           "bare_io": bare_io}, runs, warmup, after=keep_stages)
    found = det.detect_arrays(image)
    ratios = [e / b for e, b in zip(samples["e2e"], samples["bare"], strict=True)]
    return {
        "e2e_ms": median(samples["e2e"]), "bare_ms": median(samples["bare"]),
        "bare_io_ms": median(samples["bare_io"]),
        "ratio": median(ratios), "ratio_of_medians": median(samples["e2e"]) /
        median(samples["bare"]),
        "ratio_vs_bare_io": median(e / b for e, b in zip(samples["e2e"], samples["bare_io"],
                                                          strict=True)),
        "stages_ms": {s: median(getattr(t, s) for t in stages) for s in STAGES},
        "detections": len(found), "runs": runs,
    }


def at_model_size(probe: Probe, size: tuple[int, int]) -> Probe:
    """``probe`` pre-scaled to fit the model input: a camera capturing at model resolution.

    Its letterbox resize is then a copy, so the row shows the overhead without resizing.
    """
    from PIL import Image

    h, w = probe.image.shape[:2]
    scale = min(size[1] / w, size[0] / h)
    new = (round(w * scale), round(h * scale))
    image = np.asarray(Image.fromarray(probe.image).resize(new, Image.BILINEAR))
    return Probe(f"{probe.name}@{new[0]}x{new[1]}", image, probe.objects,
                 f"{probe.source} pre-scaled to the model input")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Export, measure every cell, return the report."""
    import sdk
    from sdk.runtime.tflite import interpreter_class

    models, notes = _exports.models_to_measure(args.models)
    probes = _exports.few_and_many(args.data, args.split, args.images)
    interpreter, library = interpreter_class()
    root = args.exports
    rows, exports = [], {}
    for name, model_dir in models.items():
        made = _exports.ensure_exports(model_dir, [("tflite", q) for q in QUANTS], root, args.data)
        for quant in QUANTS:
            exp = made[("tflite", quant)]
            exports[f"{name}-{quant}"] = {"path": str(exp.path), "variant": exp.variant,
                                          "status": exp.status}
            for threads in args.threads:
                det = sdk.load(exp.path, num_threads=threads)
                bare = interpreter(model_path=str(exp.artifact), num_threads=threads)
                bare.allocate_tensors()
                for probe in [*probes, at_model_size(probes[1], det.spec.input.size)]:
                    cell = measure_cell(det, bare, probe.image, args.runs, args.warmup)
                    rows.append({"model": name, "quantization": exp.variant,
                                 "threads": threads, "image": probe.describe(),
                                 "input": list(det.spec.input.size), **cell,
                                 "meets_target": cell["ratio"] <= TARGET})
                    print(f"[{name} {exp.variant} {threads}t {probe.name}] "
                          f"ratio {cell['ratio']:.3f}", file=sys.stderr)
    report = report_head("runtime_overhead", "numpy", "pillow", "ai-edge-litert", "tensorflow")
    report["versions"]["interpreter"] = library
    return {
        **report, "target_ratio": TARGET,
        "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
        "timed": {"e2e": "Detector.detect(decoded RGB array) -> list[Detection]",
                  "bare": "Interpreter.invoke() (input set beforehand)",
                  "bare_io": "set_tensor + invoke + get_tensor(boxes, scores)"},
        "data": f"{args.data} ({args.split})", "exports": exports, "rows": rows,
        "notes": notes + NOTES, "findings": findings(rows),
    }


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report."""
    headers = ("model", "quant", "threads", "image", "objects", "dets", "e2e ms", "bare ms",
               "bare+io ms", "pre ms", "post ms", "e2e/bare", "<= 1.15")
    rows = [(r["model"], r["quantization"], r["threads"], r["image"]["name"],
             r["image"]["objects"], r["detections"], r["e2e_ms"], r["bare_ms"], r["bare_io_ms"],
             r["stages_ms"]["preprocess"], r["stages_ms"]["postprocess"], r["ratio"],
             "yes" if r["meets_target"] else "no") for r in report["rows"]]
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _exports.add_model_options(parser, RESULTS / "runtime_overhead.json")
    parser.add_argument("--threads", type=int, nargs="+", default=[os.cpu_count() or 1])
    parser.add_argument("--runs", type=int, default=50, help="timed calls per contender")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--data", type=Path, default=_exports.DATA, help="dataset (test images, "
                        "calibration from its train split)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--images", type=Path, nargs="*", default=[], help="extra images")
    args = parser.parse_args(argv)
    report = _exports.with_exports(args, run)
    head = [f"{machine_line(report)}; threads {args.threads}; {args.runs} interleaved runs each"]
    publish(report, args.out, head, table(report), report["notes"] + report["findings"])


if __name__ == "__main__":
    main()
