"""LiteRT vs ONNX Runtime on the same trained models, per quantization: which engine to pick.

    .venv/bin/python -m benchmarks.onnx_peer [--models fast accurate] [--threads 1 2]
        [--runs 30] [--data data/synth] [--exports DIR]

Per model, the project's own exports: TFLite fp32/fp16/int8 (run by LiteRT, XNNPACK) and
ONNX fp32/fp16/int8 (``sdk export --format onnx``: tf2onnx, fp16 weights and compute,
int8 = onnxruntime's static QDQ on the same calibration images, ``--data``'s train split;
run by ONNX Runtime's CPU provider). Both went through the parity gate; a fallback variant
(int8 -> int8_float_head) is named in the table.

Timed: one inference on the same preprocessed probe image, including input copy and
output readback on both sides (``Detector.backend.run`` of each engine). LiteRT
``num_threads`` = ORT ``intra_op_num_threads`` (inter-op 1, sequential), for each
``--threads``. The two alternate call by call (order flipped every round); the ratio is
the median of per-round ORT/LiteRT ratios (> 1: LiteRT is faster). Outputs are compared
too, so a broken conversion is flagged instead of ranked.
Prints a Markdown table and writes ``benchmarks/results/onnx_peer.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import (
    RESULTS,
    cpu_simd,
    markdown_table,
    median,
    report_head,
)
from benchmarks._timing import interleaved

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUANTS = ("fp32", "fp16", "int8")
ENGINES = {"tflite": "LiteRT", "onnx": "ORT"}


def xnnpack_coverage(interp: Any) -> dict[str, Any]:
    """XNNPACK partitions of a LiteRT graph and the ops left to TFLite's builtin kernels.

    An op is delegated when it lies between a DELEGATE node's inputs and outputs.
    """
    import collections

    ops = interp._get_ops_details()  # noqa: SLF001 - diagnostics only
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    producer = {int(t): op["index"] for op in ops if op["op_name"] != "DELEGATE"
                for t in op["outputs"]}
    inside: set[int] = set()
    for d in delegates:
        stop, stack = {int(t) for t in d["inputs"]}, [int(t) for t in d["outputs"]]
        while stack:
            tensor = stack.pop()
            node = producer.get(tensor)
            if tensor in stop or node is None or node in inside:
                continue
            inside.add(node)
            stack.extend(int(t) for t in ops[node]["inputs"] if t >= 0)
    outside = collections.Counter(op["op_name"] for op in ops if op["op_name"] != "DELEGATE"
                                  and op["index"] not in inside)
    return {"partitions": len(delegates), "ops_outside": dict(outside.most_common())}


def prepare_model(model_dir: Path, root: Path, data: Path) -> dict[tuple[str, str], Any]:
    """The TFLite and ONNX exports of every quantization (reused when up to date)."""
    return _exports.ensure_exports(model_dir, [(fmt, q) for fmt in ENGINES for q in QUANTS],
                                   root, data)


def measure_model(name: str, made: dict[tuple[str, str], Any], x: np.ndarray,
                  threads: list[int], runs: int, warmup: int) -> list[dict[str, Any]]:
    """Rows of one model: each quantization x thread count, the two engines interleaved."""
    import sdk

    rows, reference = [], {}
    for n in threads:
        for quant in QUANTS:
            lite = sdk.load(made[("tflite", quant)].path, num_threads=n).backend
            ort = sdk.load(made[("onnx", quant)].path, num_threads=n).backend
            lite_scores, ort_scores = lite.run(x)[1], ort.run(x)[1]
            reference.setdefault(quant, (lite_scores, ort_scores))
            fp32_lite, fp32_ort = reference.get("fp32", (lite_scores, ort_scores))
            samples = interleaved({"litert": lambda b=lite: b.run(x),
                                   "ort": lambda b=ort: b.run(x)}, runs, warmup)
            ratio = median(o / li for o, li in zip(samples["ort"], samples["litert"],
                                                   strict=True))
            rows.append({
                "model": name, "quantization": quant,
                "litert_variant": made[("tflite", quant)].variant,
                "ort_variant": made[("onnx", quant)].variant,
                "threads": n, "litert_ms": median(samples["litert"]),
                "ort_ms": median(samples["ort"]), "ort_over_litert": ratio,
                "faster": "LiteRT" if ratio > 1 else "ORT",
                "runs": runs, "litert_xnnpack": xnnpack_coverage(lite.interp),
                "max_score_delta": {
                    "ort_vs_litert": float(np.abs(ort_scores - lite_scores).max()),
                    "litert_vs_litert_fp32": float(np.abs(lite_scores - fp32_lite).max()),
                    "ort_vs_ort_fp32": float(np.abs(ort_scores - fp32_ort).max())},
            })
            print(f"[{name} {quant} {n}t] ORT/LiteRT {ratio:.2f}", file=sys.stderr)
    return rows


def findings(rows: list[dict[str, Any]]) -> list[str]:
    """What the numbers say, computed from this run (the static notes are in NOTES)."""
    out = [f"{r['model']} {r['quantization']} {r['threads']}t: {r['faster']} is faster "
           f"({max(r['ort_over_litert'], 1 / r['ort_over_litert']):.2f}x; LiteRT "
           f"{r['litert_ms']:.1f} ms, ORT {r['ort_ms']:.1f} ms)" for r in rows]
    best: dict[tuple[str, int], dict[str, tuple[float, str]]] = {}
    for r in rows:
        cell = best.setdefault((r["model"], r["threads"]), {})
        for runtime, ms in (("LiteRT", r["litert_ms"]), ("ORT", r["ort_ms"])):
            if runtime not in cell or ms < cell[runtime][0]:
                cell[runtime] = (ms, r["quantization"])
    for (model, threads), cell in best.items():
        (lite_ms, lite_q), (ort_ms, ort_q) = cell["LiteRT"], cell["ORT"]
        out.append(f"{model} {threads}t, fastest of each: LiteRT {lite_q} {lite_ms:.1f} ms vs "
                   f"ORT {ort_q} {ort_ms:.1f} ms ({ort_ms / lite_ms:.2f}x)")
    return out


NOTES = [
    "Threads: LiteRT num_threads and ORT intra_op_num_threads are set equal (inter-op 1, "
    "sequential, sdk.runtime.onnx.session_options); ORT keeps its default thread spinning.",
    "XNNPACK (LiteRT's default CPU delegate) is active: litert_xnnpack lists its partitions "
    "and the ops left to TFLite's builtin kernels. The exports have a static [1, H, W, 3] "
    "input, so the dynamic-batch shape arithmetic is gone; what stays outside is the box "
    "decoder's slicing (STRIDED_SLICE, PACK) and the 2 CONCATENATION of the heads.",
    "fp16: TFLite stores fp16 weights and computes in fp32 on CPU (XNNPACK dequantizes them "
    "at load); the ONNX fp16 export computes in fp16 (its head in fp32), which ORT's CPU "
    "provider runs through fp16 kernels or casts: a format for GPUs (WebGPU), not x86 CPUs.",
    "Layout: LiteRT runs NHWC natively; tf2onnx keeps the NHWC input and inserts a "
    "Transpose, ORT then computes in NCHW(c) after its layout transformation.",
]


def int8_note(dot_product: bool) -> str:
    """What int8 can gain on this CPU, from its flags (the rows show what it did gain)."""
    if dot_product:
        return ("int8 on this CPU: VNNI present (cpu_int8_dot_product true), so both runtimes "
                "have an int8 dot-product instruction; compare the int8 rows with fp32.")
    return ("int8 on this CPU: no VNNI (cpu_int8_dot_product false), so neither runtime has "
            "an int8 dot-product instruction and full int8 need not beat fp32 "
            "(docs/DESIGN.md section 5, pitfall 6); ARM phones with sdot/i8mm are where int8 "
            "kernels pay off.")


def run(args: argparse.Namespace) -> dict[str, Any]:
    models, notes = _exports.models_to_measure(args.models)
    from sdk.preprocess import preprocess
    from sdk.spec import DetectorSpec

    probe = _exports.few_and_many(args.data, args.split)[-1]  # the busiest image
    rows, exports = [], {}
    for name, model_dir in models.items():
        made = prepare_model(model_dir, args.exports, args.data)
        x, _ = preprocess(probe.image, DetectorSpec.load(made[("tflite", "fp32")].path).input)
        rows += measure_model(name, made, x, args.threads, args.runs, args.warmup)
        exports[name] = {f"{fmt}-{q}": {"path": str(e.path), "variant": e.variant,
                                        "status": e.status} for (fmt, q), e in made.items()}
    import onnxruntime as ort

    dot_product = bool({"avx512_vnni", "avx_vnni"} & set(cpu_simd()))
    return {
        **report_head("onnx_peer", "ai-edge-litert", "onnxruntime", "tf2onnx", "onnx",
                      "tensorflow", "numpy"),
        "cpu_int8_dot_product": dot_product,
        "ort_providers": ort.get_available_providers(),
        "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
        "timed": "one inference incl. input copy and output readback, same preprocessed "
                 "input (the busiest probe image)",
        "probe": probe.describe(), "exports": exports, "rows": rows,
        "findings": findings(rows), "notes": [*notes, *NOTES, int8_note(dot_product)],
    }


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report."""
    def quant(r: dict[str, Any]) -> str:
        variants = {r["litert_variant"], r["ort_variant"]} - {r["quantization"]}
        return r["quantization"] + (f" ({', '.join(sorted(variants))})" if variants else "")

    headers = ("model", "quant", "threads", "LiteRT ms", "ORT ms", "ORT/LiteRT", "faster",
               "max |Δscore| ORT vs LiteRT")
    return markdown_table(headers, [
        (r["model"], quant(r), r["threads"], r["litert_ms"], r["ort_ms"], r["ort_over_litert"],
         r["faster"], r["max_score_delta"]["ort_vs_litert"]) for r in report["rows"]])


def main(argv: list[str] | None = None) -> None:
    parser = _exports.runtime_parser(
        __doc__, RESULTS / "onnx_peer.json", threads=[1, 2], runs=30, warmup=3,
        data_help="dataset: probe image from --split, calibration from its train split")
    _exports.measure_and_publish(parser.parse_args(argv), run, table, ("findings", "notes"))


if __name__ == "__main__":
    main()
