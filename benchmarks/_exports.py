"""Models, exports and probe images shared by the runtime benchmark scripts.

``--models fast|accurate|<folder>`` resolves like ``sdk`` does (:func:`resolve_model_dir`),
or names a model imported by ``sdk import`` (``models/nanodet``: ``saved_model/`` +
``detector.json``, calibrated on real photos: ``--calib photos``); a bundled model whose
weights are not there yet (Accurate while it trains) is skipped with a note instead of
failing the whole run. Exports go through the real exporters (parity
gate included, degraded exports kept) and are reused from ``--exports`` when their
``detector.json`` says they were made from the same weights.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import machine_line, publish
from sdk.exports import export_dirname, is_complete, provenance

DATA = Path(__file__).resolve().parents[1] / "data" / "synth"


@dataclass(frozen=True)
class ExportedModel:
    """One export folder and what it holds."""

    path: Path  # the export folder (detector.json + model)
    variant: str  # quantization actually produced (int8 may fall back to int8_float_head)
    status: str  # ok / degraded / unchecked / reused
    artifact: Path  # model.tflite or the SavedModel folder


def add_model_options(parser: argparse.ArgumentParser, out: Path) -> None:
    """``--models``, ``--exports`` and ``--out`` (default ``out``) of a runtime benchmark."""
    parser.add_argument("--models", nargs="+", default=["fast", "accurate"],
                        help="fast, accurate or 'sdk train' folders (missing ones are skipped)")
    parser.add_argument("--exports", type=Path, help="export folder to reuse/fill "
                        "(default: a temporary one)")
    parser.add_argument("--out", type=Path, default=out)


def runtime_parser(doc: str, out: Path, threads: list[int], runs: int, warmup: int,
                   data_help: str) -> argparse.ArgumentParser:
    """The options of an interleaved runtime benchmark: models, exports, threads, runs, data."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_model_options(parser, out)
    parser.add_argument("--threads", type=int, nargs="+", default=threads)
    parser.add_argument("--runs", type=int, default=runs, help="timed calls per contender")
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--data", type=Path, default=DATA, help=data_help)
    parser.add_argument("--split", default="test")
    return parser


def measure_and_publish(args: argparse.Namespace, run: Callable[[argparse.Namespace], dict],
                        table: Callable[[dict], str], bullets: tuple[str, ...]) -> dict:
    """Run with exports, print the machine, the table and the report's ``bullets`` lists,
    and write the JSON to ``args.out``."""
    report = with_exports(args, run)
    head = [f"{machine_line(report)}; threads {args.threads}; {args.runs} interleaved runs each"]
    lines = [line for key in bullets for line in report[key]]
    publish(report, args.out, head, table(report), lines)
    return report


def with_exports(args: argparse.Namespace, run: Callable[[argparse.Namespace], dict],
                 ) -> dict[str, Any]:
    """``run(args)`` with ``args.exports`` set; a temporary folder is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        args.exports = args.exports or Path(tmp)
        return run(args)


def resolve_models(names: list[str]) -> tuple[dict[str, Path], list[str]]:
    """Trained detector folders by name; names that resolve to nothing become notes."""
    from sdk.models.io import ModelNotFoundError, resolve_model_dir

    found, notes = {}, []
    for name in dict.fromkeys(names):
        if is_imported(Path(name)):
            found[name] = Path(name)
            continue
        try:
            found[name] = resolve_model_dir(name)
        except ModelNotFoundError as exc:
            notes.append(f"{name}: skipped ({exc})")
    return found, notes


def is_imported(folder: Path) -> bool:
    """``folder`` holds a model written by ``sdk import`` (no training config or weights)."""
    return (folder / "detector.json").is_file() and (folder / "saved_model"
                                                     / "saved_model.pb").is_file()


def models_to_measure(names: list[str]) -> tuple[dict[str, Path], list[str]]:
    """:func:`resolve_models`, stopping with the notes when none is there."""
    found, notes = resolve_models(names)
    if not found:
        raise SystemExit("no model to measure: " + "; ".join(notes))
    return found, notes


def current_export(root: Path, name: str, fmt: str, quantization: str,
                   sha: str) -> ExportedModel | None:
    """``root/<name>-<fmt>-<quantization>`` if it is complete and made from weights ``sha``."""
    folder = root / export_dirname(name, fmt, quantization)
    if not is_complete(folder):
        return None
    found = provenance(folder)
    variant = found.get("quantization", "")
    if found.get("source_weights_sha256") != sha or not variant.startswith(quantization):
        return None
    files = sorted(folder.glob("*.tflite")) or sorted(folder.glob("*.onnx"))
    return ExportedModel(folder, variant, "reused", files[0] if files else folder)  # SavedModel


def ensure_exports(model_dir: Path, cells: list[tuple[str, str]], root: Path,
                   calib: Path | None, options: dict[str, Any] | None = None,
                   ) -> dict[tuple[str, str], ExportedModel]:
    """Export ``model_dir`` to each ``(format, quantization)`` into ``root``, reusing folders.

    ``options`` are format options (e.g. ``uint8_input``); folder names do not show them, so
    give exports with other options another ``root``.

    The source (TensorFlow, one trace) is opened only when something must be exported.
    """
    from exporters.calibration import PHOTOS
    from exporters.source import source_name, source_weights_sha256

    name, sha = source_name(model_dir), source_weights_sha256(model_dir)
    if is_imported(model_dir):  # no data of its own: real photos, not the synthetic shapes
        calib = Path(PHOTOS)
    done: dict[tuple[str, str], ExportedModel] = {}
    for fmt, quant in cells:
        reused = current_export(root, name, fmt, quant, sha)
        if reused is not None:
            done[(fmt, quant)] = reused
    missing = [c for c in cells if c not in done]
    if not missing:
        return done
    from exporters.export import export
    from exporters.source import open_source

    with open_source(model_dir) as source:
        for fmt, quant in missing:
            result = export(source, fmt, quant, out_root=root, calib=calib, force=True,
                            allow_degraded=True, latency_runs=0, options=options)
            done[(fmt, quant)] = ExportedModel(result.out_dir, result.variant, result.status,
                                               result.artifact)
    return done


def tf2onnx(saved_model: Path, out: Path, opset: int) -> float:
    """Convert a SavedModel to ONNX file ``out`` with tf2onnx; seconds taken.

    Runs in a child process, so TensorFlow stays out of the benchmark's own process.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model",
                           str(saved_model), "--opset", str(opset), "--output", str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise SystemExit(f"tf2onnx failed on {saved_model}:\n{tail}")
    return time.perf_counter() - start


@dataclass(frozen=True)
class Probe:
    """A test image picked for its object count."""

    name: str  # few / many / the file name
    image: np.ndarray  # HxWx3 uint8 RGB
    objects: int | None  # annotated objects (None for a user image)
    source: str

    def describe(self) -> dict[str, Any]:
        h, w = self.image.shape[:2]
        return {"name": self.name, "objects": self.objects, "size": [w, h],
                "source": self.source}


def few_and_many(data: Path, split: str, extra: list[Path] | None = None) -> list[Probe]:
    """The split's images with the fewest and the most annotated objects, plus ``extra``.

    Ties are broken by image id, so the same dataset always gives the same two images.
    """
    from sdk.data import load_dataset, load_image

    samples = sorted(load_dataset(data, split).samples,
                     key=lambda s: (len(s.boxes), s.image_id))
    probes = [Probe(tag, load_image(s.image_path), len(s.boxes), str(s.image_path))
              for tag, s in (("few", samples[0]), ("many", samples[-1]))]
    return probes + [Probe(p.name, load_image(p), None, str(p)) for p in extra or []]


def calibration_inputs(data: Path, input_spec: Any, limit: int) -> np.ndarray:
    """Preprocessed float32 calibration inputs from a dataset's train split (or a folder)."""
    from exporters.calibration import load_calibration

    return load_calibration(data, input_spec, limit=limit).inputs
