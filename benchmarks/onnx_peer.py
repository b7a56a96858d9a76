"""The project's runtime (LiteRT) vs ONNX Runtime on the same trained models, fp32 and int8.

    .venv/bin/python -m benchmarks.onnx_peer [--models fast accurate] [--threads 1 2]
        [--runs 30] [--data data/synth] [--exports DIR]

Per model: the fp32 SavedModel export is converted to ONNX with tf2onnx (the converter an
ONNX Runtime user would pick); ORT int8 is ``onnxruntime.quantization.quantize_static``
(QDQ, per-channel int8 weights, MinMax on the same calibration images as the TFLite int8
export: ``--data``'s train split), falling back to ``quantize_dynamic`` if static fails
(the JSON says which). LiteRT runs the project's TFLite fp32 and int8 exports.

Timed: one inference on the same preprocessed probe image, including input copy and
output readback on both sides (``Detector.backend.run`` vs ``InferenceSession.run``).
LiteRT ``num_threads`` = ORT ``intra_op_num_threads`` (inter-op 1, sequential), for each
``--threads``. The two alternate call by call (order flipped every round); the ratio is
the median of per-round ORT/LiteRT ratios (> 1: the project is faster). Outputs are
compared too, so a broken conversion is flagged instead of ranked.
Prints a Markdown table and writes ``benchmarks/results/onnx_peer.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _exports
from benchmarks._common import (
    RESULTS,
    cpu_simd,
    machine_line,
    markdown_table,
    median,
    publish,
    report_head,
)
from benchmarks._timing import interleaved
from sdk.exports import export_dirname

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OPSET = 17
QUANTS = ("fp32", "int8")


def _cached(folder: Path, sha: str) -> Path | None:
    meta = folder / "source.json"
    if (folder / "model.onnx").is_file() and meta.is_file():
        if json.loads(meta.read_text()).get("source_weights_sha256") == sha:
            return folder / "model.onnx"
    return None


def to_onnx(saved_model: Path, out: Path, sha: str) -> tuple[Path, float]:
    """tf2onnx SavedModel -> ``out/model.onnx`` (reused for the same weights); (path, s)."""
    cached = _cached(out, sha)
    if cached is not None:
        return cached, 0.0
    seconds = _exports.tf2onnx(saved_model, out / "model.onnx", OPSET)
    (out / "source.json").write_text(json.dumps({"source_weights_sha256": sha,
                                                 "converter": f"tf2onnx opset {OPSET}"}))
    return out / "model.onnx", seconds


def quantize_onnx(fp32: Path, out: Path, sha: str,
                  calibration: Callable[[], np.ndarray]) -> tuple[Path, str]:
    """ORT int8: static QDQ (per-channel S8 weights, MinMax), dynamic if static fails."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    cached = _cached(out, sha)
    if cached is not None:
        return cached, json.loads((out / "source.json").read_text())["method"]
    out.mkdir(parents=True, exist_ok=True)
    name = _session(fp32, 1).get_inputs()[0].name
    calib = calibration()

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(calib)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.items, None)
            return None if x is None else {name: x[None]}

    pre, target = out / "pre.onnx", out / "model.onnx"
    try:
        quant_pre_process(str(fp32), str(pre))
        # U8 activations + S8 per-channel weights: ORT's recommended scheme on x86 (its
        # AVX2 kernels are u8s8); TFLite int8 uses s8 activations, same weight scheme.
        quantize_static(str(pre), str(target), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"CalibMaxIntermediateOutputs": 16})
        method = (f"static QDQ, U8 activations, per-channel S8 weights, MinMax on "
                  f"{len(calib)} calibration images")
    except Exception as exc:  # the quantizer raises many types; fall back and say why
        quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8)
        method = f"dynamic (static failed: {type(exc).__name__}: {exc})"[:300]
    pre.unlink(missing_ok=True)
    (out / "source.json").write_text(json.dumps({"source_weights_sha256": sha,
                                                 "method": method}))
    return target, method


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


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


def prepare_model(name: str, model_dir: Path, root: Path, data: Path,
                  calib_images: int) -> dict[str, Any]:
    """Exports (TFLite fp32/int8, SavedModel), ONNX fp32/int8 and their provenance."""
    from sdk.models.io import weights_sha256
    from sdk.spec import DetectorSpec

    made = _exports.ensure_exports(model_dir, [("tflite", "fp32"), ("tflite", "int8"),
                                               ("savedmodel", "fp32")], root, data)
    sha = weights_sha256(model_dir)
    onnx_fp32, convert_s = to_onnx(made[("savedmodel", "fp32")].artifact,
                                   root / export_dirname(name, "onnx", "fp32"), sha)
    spec = DetectorSpec.load(made[("tflite", "fp32")].path)
    onnx_int8, method = quantize_onnx(
        onnx_fp32, root / export_dirname(name, "onnx", "int8"), sha,
        lambda: _exports.calibration_inputs(data, spec.input, calib_images))
    return {"tflite": {q: made[("tflite", q)] for q in QUANTS},
            "onnx": {"fp32": onnx_fp32, "int8": onnx_int8}, "ort_int8_method": method,
            "tf2onnx_seconds": round(convert_s, 1)}


def measure_model(name: str, prepared: dict[str, Any], x: np.ndarray, threads: list[int],
                  runs: int, warmup: int) -> list[dict[str, Any]]:
    """Rows of one model: each quantization x thread count, interleaved."""
    import sdk

    rows, reference = [], {}
    for n in threads:
        for quant in QUANTS:
            exp = prepared["tflite"][quant]
            det = sdk.load(exp.path, num_threads=n)
            sess = _session(prepared["onnx"][quant], n)
            feed = {sess.get_inputs()[0].name: x}
            out_names = [o.name for o in sess.get_outputs()]
            lite_scores = det.backend.run(x)[1]
            ort_scores = dict(zip(out_names, sess.run(None, feed), strict=True))["scores"]
            reference.setdefault(quant, (lite_scores, ort_scores))
            fp32_lite, fp32_ort = reference.get("fp32", (lite_scores, ort_scores))
            samples = interleaved({"litert": lambda d=det: d.backend.run(x),
                                   "ort": lambda s=sess, f=feed: s.run(None, f)}, runs, warmup)
            ratios = [o / li for o, li in zip(samples["ort"], samples["litert"], strict=True)]
            rows.append({
                "model": name, "quantization": quant, "litert_variant": exp.variant,
                "threads": n, "litert_ms": median(samples["litert"]),
                "ort_ms": median(samples["ort"]), "ort_over_litert": median(ratios),
                "runs": runs, "litert_xnnpack": xnnpack_coverage(det.backend.interp),
                "max_score_delta": {
                    "ort_vs_litert": float(np.abs(ort_scores - lite_scores).max()),
                    "litert_vs_litert_fp32": float(np.abs(lite_scores - fp32_lite).max()),
                    "ort_vs_ort_fp32": float(np.abs(ort_scores - fp32_ort).max())},
            })
            print(f"[{name} {quant} {n}t] ORT/LiteRT {rows[-1]['ort_over_litert']:.2f}",
                  file=sys.stderr)
    return rows


def findings(rows: list[dict[str, Any]]) -> list[str]:
    """What the numbers say, computed from this run (the static notes are in NOTES)."""
    out = []
    for r in rows:
        if r["ort_over_litert"] < 1:
            out.append(f"{r['model']} {r['quantization']} {r['threads']}t: ONNX Runtime is "
                       f"{1 / r['ort_over_litert']:.2f}x faster than LiteRT")
    int8 = {(r["model"], r["threads"]): r for r in rows if r["quantization"] == "int8"}
    for r in rows:
        q = int8.get((r["model"], r["threads"]))
        if r["quantization"] == "fp32" and q and q["litert_ms"] > r["litert_ms"]:
            out.append(f"{r['model']} {r['threads']}t: LiteRT int8 ({q['litert_ms']:.1f} ms) is "
                       f"slower than LiteRT fp32 ({r['litert_ms']:.1f} ms) on this CPU")
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
    "sequential); ORT keeps its default thread spinning.",
    "XNNPACK (LiteRT's default CPU delegate) is active: litert_xnnpack lists its partitions "
    "and the ops left to TFLite's builtin kernels. fp32: the dynamic-batch shape arithmetic "
    "(SHAPE/STRIDED_SLICE/PACK/RESHAPE) and 2 CONCATENATION; int8 adds the int8 EXP, MINIMUM "
    "and SOFTMAX of the box decoder and score activation. Re-converting with a fixed "
    "[1, H, W, 3] signature leaves only 7 cheap ops outside but was not measurably faster "
    "(Fast, 1 and 2 threads, contended machine), so the exporter is unchanged.",
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
    root = args.exports
    from sdk.preprocess import preprocess
    from sdk.spec import DetectorSpec

    probe = _exports.few_and_many(args.data, args.split)[-1]  # the busiest image
    rows, prepared_info = [], {}
    for name, model_dir in models.items():
        prepared = prepare_model(name, model_dir, root, args.data, args.calib_images)
        x, _ = preprocess(probe.image, DetectorSpec.load(prepared["tflite"]["fp32"].path).input)
        rows += measure_model(name, prepared, x, args.threads, args.runs, args.warmup)
        prepared_info[name] = {"ort_int8": prepared["ort_int8_method"],
                               "tf2onnx_seconds": prepared["tf2onnx_seconds"],
                               "onnx": {q: str(p) for q, p in prepared["onnx"].items()},
                               "tflite": {q: {"path": str(e.path), "variant": e.variant}
                                          for q, e in prepared["tflite"].items()}}
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
        "probe": probe.describe(), "models": prepared_info, "rows": rows,
        "findings": findings(rows), "notes": [*notes, *NOTES, int8_note(dot_product)],
    }


def table(report: dict[str, Any]) -> str:
    """Markdown table of the report."""
    headers = ("model", "quant", "threads", "LiteRT ms", "ORT ms", "ORT/LiteRT",
               "max |Δscore| ORT vs LiteRT")
    return markdown_table(headers, [
        (r["model"], r["quantization"] if r["litert_variant"] == r["quantization"] else
         f"{r['quantization']} ({r['litert_variant']})", r["threads"], r["litert_ms"],
         r["ort_ms"], r["ort_over_litert"], r["max_score_delta"]["ort_vs_litert"])
        for r in report["rows"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _exports.add_model_options(parser, RESULTS / "onnx_peer.json")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=30, help="timed calls per contender")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--data", type=Path, default=_exports.DATA,
                        help="dataset: probe image from --split, calibration from train")
    parser.add_argument("--split", default="test")
    parser.add_argument("--calib-images", type=int, default=200,
                        help="ORT calibration images (the TFLite exporter uses up to 200)")
    args = parser.parse_args(argv)
    report = _exports.with_exports(args, run)
    head = [f"{machine_line(report)}; threads {args.threads}; {args.runs} interleaved runs each",
            *(f"{name}: ORT int8 = {info['ort_int8']}" for name, info in report["models"].items())]
    publish(report, args.out, head, table(report), report["findings"] + report["notes"])


if __name__ == "__main__":
    main()
