"""One export: convert, check parity, embed detector.json, write the folder atomically.

The folder is built in a hidden sibling and renamed into place only when everything
succeeded (:func:`sdk.atomic.atomic_dir`): a failed, over-budget or interrupted
export leaves nothing behind, and an existing export is replaced only with ``force``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.calibration import CalibrationSet, load_calibration, require_folder
from exporters.errors import OutputExistsError, ParityError, RunnerUnavailableError
from exporters.formats.base import ExportFormat, Runner
from exporters.parity import (
    DEFAULT_BUDGETS,
    Budget,
    ParityReport,
    check_parity,
    probe_inputs,
)
from exporters.probes import ProbeSet, probe_set
from exporters.readme import readme_text
from exporters.registry import get_format
from exporters.source import ExportSource, export_provenance, open_source, source_name
from sdk.data import Dataset, load_dataset
from sdk.atomic import atomic_dir
from sdk.spec import SPEC_FILENAME, DetectorSpec

DEFAULT_OUT = Path("exports")
LATENCY_WARMUP = 3  # first runs build XNNPACK/wasm state: never timed


@dataclass
class ExportResult:
    """What one export produced and measured.

    Attributes:
        status: ``ok`` (parity passed), ``unchecked`` (no runtime here, validated
            structurally) or ``degraded`` (over budget, kept with ``allow_degraded``).
        variant: The quantization actually produced (differs after a fallback).
    """

    format: str
    quantization: str
    variant: str
    status: str
    out_dir: Path
    artifact: Path
    spec: DetectorSpec
    parity: ParityReport
    size_bytes: int
    seconds: float
    latency_ms: list[float] = field(default_factory=list)
    runtime: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Attempt:
    variant: str
    artifact: Path
    spec: DetectorSpec
    report: ParityReport
    runner: Runner | None


def _resolve_dataset(data: str | Path | Dataset | None, split: str) -> Dataset | None:
    if data is None or isinstance(data, Dataset):
        return data
    return load_dataset(data, split)


def _calibration(fmt: ExportFormat, quantization: str, calib: Any, data: Any,
                 spec: DetectorSpec) -> CalibrationSet | None:
    if quantization not in fmt.calibrated:
        return None
    if isinstance(calib, CalibrationSet):
        return calib
    if calib is not None:
        return load_calibration(calib, spec.input)
    root = data.root if isinstance(data, Dataset) else data
    return load_calibration(root, spec.input)  # a dataset root: its train split


def _parity(fmt: ExportFormat, artifact: Path, spec: DetectorSpec, source: ExportSource,
            probes: ProbeSet, eval_set: Dataset | None, budget: Budget,
            ) -> tuple[ParityReport, Runner | None]:
    try:
        runner = fmt.runner(artifact, spec)
    except RunnerUnavailableError as exc:
        return ParityReport.skipped(str(exc)), None
    return check_parity(runner, spec, source, probes, budget, eval_set), runner


def _attempts(fmt: ExportFormat, source: ExportSource, tmp: Path, quantization: str,
              calib: CalibrationSet | None, probes: ProbeSet, eval_set: Dataset | None,
              budgets: Mapping[str, Budget]) -> tuple[_Attempt, list[str]]:
    """Convert and check each variant until one passes; returns the last and the notes."""
    notes = [calib.warning] if calib is not None and calib.warning else []
    first, *fallbacks = fmt.variants(quantization)
    attempt = _attempt(fmt, source, tmp, first, calib, probes, eval_set, budgets)
    for fallback in fallbacks:
        if attempt.report.verdict != "fail":
            break
        notes.append(f"{attempt.variant} missed its parity budget "
                     f"({'; '.join(attempt.report.reasons)}); retried as {fallback}")
        for child in tmp.iterdir():  # the retry starts from an empty folder
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        attempt = _attempt(fmt, source, tmp, fallback, calib, probes, eval_set, budgets)
    return attempt, notes


def _attempt(fmt: ExportFormat, source: ExportSource, tmp: Path, variant: str,
             calib: CalibrationSet | None, probes: ProbeSet, eval_set: Dataset | None,
             budgets: Mapping[str, Budget]) -> _Attempt:
    """Convert one variant into ``tmp`` and run the parity gate on it."""
    artifact = fmt.convert(source, tmp, variant, calib)
    spec = fmt.artifact_spec(artifact, source.spec.with_provenance(**export_provenance(
        fmt.name, variant, calib.sha256 if calib else None, fmt.converter_versions())))
    report, runner = _parity(fmt, artifact, spec, source, probes, eval_set,
                             budgets[fmt.budget_class[variant]])
    return _Attempt(variant, artifact, spec, report, runner)


def _metrics(report: ParityReport, latency: list[float], runtime: str) -> dict[str, Any]:
    import numpy as np

    metrics: dict[str, Any] = {"parity": report.verdict, "probes": report.probes,
                               "raw": report.raw, "detections": report.detections}
    if report.metrics:
        metrics["eval"] = {"split": report.metrics["split"], **report.metrics["artifact"],
                           "delta_mAP": report.metrics["delta_mAP"]}
    if latency:
        metrics["latency_ms"] = {"p50": float(np.percentile(latency, 50)),
                                 "p90": float(np.percentile(latency, 90)),
                                 "runs": len(latency), "runtime": runtime}
    return metrics


def _finish(fmt: ExportFormat, tmp: Path, dest: Path, attempt: _Attempt,
            latency: list[float], notes: list[str]) -> tuple[DetectorSpec, dict[str, Any]]:
    """Embed and write detector.json, validate, write parity.json and the README."""
    runtime = attempt.runner.description if attempt.runner else ""
    spec = attempt.spec.with_metrics(**_metrics(attempt.report, latency, runtime))
    fmt.embed_metadata(attempt.artifact, spec)
    checks = fmt.validate(attempt.artifact, spec)
    spec.save(tmp / SPEC_FILENAME)
    (tmp / "parity.json").write_text(json.dumps(attempt.report.to_dict(), indent=2) + "\n")
    files = sorted(p.name for p in tmp.iterdir() if p.name not in (SPEC_FILENAME,))
    (tmp / "README.md").write_text(readme_text(
        dest.name, spec, files, attempt.report.summary(), notes, fmt.usage, fmt.python_runtime))
    return spec, checks


@dataclass(frozen=True)
class ExportPlan:
    """The cheap, checked part of an export: handler, quantization and destination."""

    handler: ExportFormat
    quantization: str
    dest: Path


def prepare(model: str | Path | ExportSource, fmt: str, quantization: str | None = None,
            out_root: str | Path = DEFAULT_OUT, calib: Any = None, data: Any = None,
            force: bool = False, options: Mapping[str, Any] | None = None) -> ExportPlan:
    """Check format, quantization, options, calibration and destination before any work."""
    handler = get_format(fmt)(**(options or {}))
    quantization = quantization or handler.default_quantization
    handler.check_args(quantization, calib if calib is not None else data)
    if quantization in handler.calibrated and isinstance(calib, str | Path):
        require_folder(calib)  # fail now, not after loading the model
    name = model.name if isinstance(model, ExportSource) else source_name(model)
    dest = Path(out_root) / f"{name}-{fmt}-{quantization}"
    if dest.exists() and (dest.is_file() or any(dest.iterdir())) and not force:
        raise OutputExistsError(f"{dest} already exists: pass --force to overwrite it")
    return ExportPlan(handler, quantization, dest)


def _latency(attempt: _Attempt, probes: ProbeSet, runs: int) -> list[float]:
    if attempt.runner is None or not runs:
        return []
    inputs = probe_inputs(probes, attempt.spec)[:1]  # a real image, not zeros
    return attempt.runner.latency(inputs, runs, LATENCY_WARMUP)


def _build(plan: ExportPlan, source: ExportSource, calib: Any, data: Any,
           eval_set: Dataset | None, probes: ProbeSet, allow_degraded: bool,
           budgets: Mapping[str, Budget], latency_runs: int) -> ExportResult:
    """Convert, gate, finish; the folder appears at ``plan.dest`` only if all succeeds."""
    handler, started = plan.handler, time.perf_counter()
    calib_set = _calibration(handler, plan.quantization, calib, data, source.spec)
    with atomic_dir(plan.dest, overwrite=True) as tmp:
        attempt, notes = _attempts(handler, source, tmp, plan.quantization, calib_set, probes,
                                   eval_set, budgets)
        report = attempt.report
        if report.verdict == "fail" and not allow_degraded:
            raise ParityError(f"{plan.dest.name}: parity gate failed: "
                              f"{'; '.join(report.reasons)}", report)
        latency = _latency(attempt, probes, latency_runs)
        spec, checks = _finish(handler, tmp, plan.dest, attempt, latency, notes)
    artifact = plan.dest / attempt.artifact.relative_to(tmp)
    return ExportResult(
        handler.name, plan.quantization, attempt.variant,
        {"pass": "ok", "skipped": "unchecked"}.get(report.verdict, "degraded"), plan.dest,
        artifact, spec, report, handler.artifact_size(artifact),
        time.perf_counter() - started, latency,
        attempt.runner.description if attempt.runner else "", checks, notes)


def export(model: str | Path | ExportSource, fmt: str, quantization: str | None = None,
           out_root: str | Path = DEFAULT_OUT, calib: str | Path | CalibrationSet | None = None,
           data: str | Path | Dataset | None = None, force: bool = False,
           allow_degraded: bool = False, budgets: Mapping[str, Budget] | None = None,
           split: str = "val", options: Mapping[str, Any] | None = None,
           probes: ProbeSet | None = None, latency_runs: int = 0) -> ExportResult:
    """Export ``model`` to ``fmt`` into ``out_root/<model>-<fmt>-<quantization>/``.

    ``model`` is ``fast``, ``accurate``, a ``sdk train`` folder, a SavedModel export, or an
    already opened :class:`ExportSource` (shared by several exports). ``data`` is a dataset
    root (its ``split`` is the evaluation split; its train split calibrates when ``calib``
    is not given). ``budgets`` overrides :data:`exporters.parity.DEFAULT_BUDGETS` per class.

    Raises:
        ExportError: a typed subclass for every user-fixable failure (unknown format, bad
            quantization, missing calibration, existing output, converter failure) and
            :class:`ParityError` when over budget without ``allow_degraded``.
    """
    plan = prepare(model, fmt, quantization, out_root, calib, data, force, options)
    eval_set = _resolve_dataset(data, split)
    with contextlib.ExitStack() as stack:
        source = model if isinstance(model, ExportSource) else stack.enter_context(
            open_source(model))
        return _build(plan, source, calib, data, eval_set, probes or probe_set(eval_set),
                      allow_degraded, {**DEFAULT_BUDGETS, **(budgets or {})}, latency_runs)
