"""Measure the interpreter's cost per parity check: the probe set through CoreML exports.

    python -m exporters.formats.coreml.mil.measure                       # fast + accurate
    python -m exporters.formats.coreml.mil.measure --model fast --quantize fp16 int8
    python -m exporters.formats.coreml.mil.measure --exports exports     # reuse sdk export output

For each model and quantization: converts the model as ``sdk export --format coreml`` does
(the CoreML format's own ``convert``; or reads ``<exports>/<model>-coreml-<q>/model.mlpackage``),
loads it once, runs the probe images (``sdk.probes.synthetic_probes()``, preprocessed) through
it one at a time, and reports seconds for the probe set (wall clock, and CPU time, which a
busy machine inflates less), plus the cosine of the outputs to the source model's float32
outputs as a sanity check. Prints a table, or JSON with ``--json``.
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


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _package(source: Any, quantization: str, exports: Path | None, scratch: Path) -> Path:
    if exports is not None:
        from sdk.exports import export_dirname

        package = exports / export_dirname(source.name, "coreml", quantization) / "model.mlpackage"
        if not package.exists():
            raise SystemExit(f"{package} not found (run sdk export --format coreml "
                             f"--quantize {quantization} --model {source.name} first)")
        return package
    from exporters.registry import get_format

    out = scratch / f"{source.name}-{quantization}"
    out.mkdir()
    return get_format("coreml")().convert(source, out, quantization, None)


def measure(models: list[str], quantizations: list[str], exports: Path | None = None,
            repeat: int = 1) -> list[dict[str, Any]]:
    """One row per (model, quantization): load and probe-set seconds, cosine to float32."""
    from exporters.formats.coreml.mil import load_program
    from exporters.source import open_source
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes

    rows = []
    with tempfile.TemporaryDirectory(prefix="mil-measure-") as scratch:
        for model in models:
            with open_source(model) as source:
                spec = source.spec
                x = np.concatenate([preprocess(im, spec.input)[0] for im in synthetic_probes()])
                ref = source.reference(x)
                for quantization in quantizations:
                    package = _package(source, quantization, exports, Path(scratch))
                    start = time.perf_counter()
                    program = load_program(package)
                    load_s = time.perf_counter() - start
                    best: tuple[float, float] | None = None
                    for _ in range(repeat):
                        wall, cpu = time.perf_counter(), time.process_time()
                        outs = [program.run({spec.input.name: x[i:i + 1]})
                                for i in range(len(x))]
                        took = (time.perf_counter() - wall, time.process_time() - cpu)
                        best = took if best is None or took[0] < best[0] else best
                    got = [np.concatenate([o[name] for o in outs])
                           for name in (spec.outputs.boxes, spec.outputs.scores)]
                    rows.append({
                        "model": model, "quantization": quantization, "images": len(x),
                        "input": list(spec.input.size), "ops": sum(program.op_types.values()),
                        "ops_run": program.ops_per_run, "load_s": round(load_s, 3),
                        "probe_set_s": round(best[0], 3), "probe_set_cpu_s": round(best[1], 3),
                        "per_image_s": round(best[0] / len(x), 3),
                        "cosine_boxes": round(_cosine(got[0], ref[0]), 7),
                        "cosine_scores": round(_cosine(got[1], ref[1]), 7)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exporters.formats.coreml.mil.measure",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", nargs="+", default=["fast", "accurate"])
    parser.add_argument("--quantize", nargs="+", default=["fp16", "palettize4"],
                        choices=["fp16", "int8", "palettize6", "palettize4"])
    parser.add_argument("--exports", type=Path, default=None,
                        help="folder of sdk export outputs to read instead of converting")
    parser.add_argument("--repeat", type=int, default=1, help="runs per export; best is kept")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args(argv)
    rows = measure(args.model, args.quantize, args.exports, max(1, args.repeat))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ("model", "quantization", "images", "load_s", "probe_set_s", "probe_set_cpu_s",
               "per_image_s", "cosine_boxes", "cosine_scores")
    print("  ".join(f"{c:>15}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]!s:>15}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
