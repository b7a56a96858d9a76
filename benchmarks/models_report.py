"""Measure the bundled Fast and Accurate detectors side by side for MODELS.md.

For each model: COCO metrics on the synthetic test split (Keras source), parameters,
FLOPs of the inference graph, and TFLite fp32 latency with LiteRT. Latency is measured
interleaved (Fast, Accurate, Fast, ...) in one process so machine noise hits both alike;
the ratio is the figure to trust.

    .venv/bin/python -m benchmarks.models_report --data data/synth --out benchmarks/results

Prints a Markdown table and writes ``models_report.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks._common import median, percentile, report_head, write_json
from benchmarks._timing import detector_rounds

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def flops(model_dir: str) -> float:
    """GFLOPs of the batch-1 inference graph, counted by the TF profiler on a frozen graph."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    from sdk.models import build_inference_model
    from sdk.models.io import load_detector

    net, cfg, _ = load_detector(model_dir)
    model = build_inference_model(net, cfg)
    spec = tf.TensorSpec([1, *cfg.input_size, 3], tf.float32)
    frozen = convert_variables_to_constants_v2(tf.function(model).get_concrete_function(spec))
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return tf.compat.v1.profiler.profile(graph=frozen.graph, options=opts).total_float_ops / 1e9


def training_time(model_dir: Path) -> dict[str, float | None]:
    """Epochs and minutes of training (sum of the epochs' wall time) from the model card.

    ``None`` for a model whose card does not record them (an untrained or hand-made one).
    """
    from sdk.models.io import CARD_FILE

    card_file = model_dir / CARD_FILE
    card = json.loads(card_file.read_text()) if card_file.is_file() else {}
    seconds = card.get("train_seconds")
    return {"epochs": card.get("options", {}).get("epochs"),
            "train_min": None if seconds is None else round(seconds / 60, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/synth")
    parser.add_argument("--split", default="test")
    parser.add_argument("--models", nargs="+", default=["fast", "accurate"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args(argv)

    import sdk
    from exporters.export import export
    from sdk.data import load_dataset
    from sdk.evaluate import evaluate_model
    from sdk.models.io import load_detector
    from sdk.probes import synthetic_probes

    dataset = load_dataset(args.data, args.split)
    rows, detectors = {}, {}
    tmp = Path(tempfile.mkdtemp(prefix="models-report-"))
    for name in args.models:
        net, cfg, path = load_detector(name)
        t0 = time.time()
        metrics = evaluate_model(name, dataset)
        rows[name] = {"input": list(cfg.input_size), **training_time(path),
                      "params_M": net.count_params() / 1e6, "GFLOPs": flops(name), **metrics,
                      "eval_s": round(time.time() - t0, 1)}
        result = export(name, "tflite", "fp32", out_root=tmp, allow_degraded=True)
        detectors[name] = sdk.load(result.out_dir, num_threads=args.threads)
    samples = detector_rounds(detectors, synthetic_probes(1)[0], args.rounds, 10)
    for name, times in samples.items():
        rows[name]["tflite_fp32_p50_ms"] = median(times)
        rows[name]["tflite_fp32_p90_ms"] = percentile(times, 90)
    report = {**report_head("models_report", "tensorflow", "ai-edge-litert", "pycocotools"),
              "threads": args.threads,
              "split": f"{args.data}/{args.split} ({len(dataset)} images)", "models": rows}
    write_json(Path(args.out) / "models_report.json", report)
    print(markdown(report))


def markdown(report: dict) -> str:
    """The MODELS.md table."""
    lines = _table(report["models"], ("epochs", "train_min", "mAP", "mAP50", "AP_small",
                                      "AP_medium", "AP_large", "params_M", "GFLOPs",
                                      "tflite_fp32_p50_ms"))
    lines += ["", *_table(report["models"], ("mAP50", "AP50_small", "AP50_medium", "AP50_large"))]
    models = report["models"]
    if {"fast", "accurate"} <= set(models):
        f, a = models["fast"], models["accurate"]
        lines.append(f"\nAccurate - Fast: {100 * (a['mAP'] - f['mAP']):+.1f} mAP points, "
                     f"{100 * (a['AP_small'] - f['AP_small']):+.1f} AP_small points; Fast is "
                     f"{a['tflite_fp32_p50_ms'] / f['tflite_fp32_p50_ms']:.2f}x faster "
                     f"(TFLite fp32, LiteRT, {report['threads']} threads, interleaved).")
    return "\n".join(lines)


def _table(models: dict, cols: tuple[str, ...]) -> list[str]:
    lines = ["| model | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, row in models.items():
        lines.append(f"| {name} | " + " | ".join(_cell(row[c]) for c in cols) + " |")
    return lines


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


if __name__ == "__main__":
    main()
