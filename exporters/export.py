"""One export: convert, check parity, embed detector.json, write the folder atomically.

An :class:`ExportJob` says everything about one export (or, for :mod:`exporters.matrix`,
about a set of them). The folder is built in a hidden sibling and renamed into place only
when everything succeeded (:func:`sdk.atomic.atomic_dir`): a failed, over-budget or
interrupted export leaves nothing behind, and an existing export is replaced only with
``force`` (or, with ``skip_up_to_date``, when it is a stale export of the same name).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from exporters.accuracy import accuracy_section, bundled_eval_set
from exporters.calibration import (
    CalibrationSet,
    bundled_calibration,
    is_photos,
    load_calibration,
    photo_calibration,
    require_folder,
)
from exporters.errors import OutputExistsError, ParityError, RunnerUnavailableError
from exporters.formats.base import ExportFormat, Runner
from exporters.parity import DEFAULT_BUDGETS, Budget, ParityReport, Verdict, check_parity
from exporters.probes import ProbeSet, probe_set, reference_json
from exporters.readme import readme_text
from exporters.registry import get_format
from exporters.source import (
    ExportSource,
    export_provenance,
    open_source,
    source_name,
    source_recipe,
    source_weights_sha256,
)
from sdk import __version__
from sdk.atomic import atomic_dir
from sdk.data import Dataset, load_dataset
from sdk.exports import (
    PARITY_FILE,
    REFERENCE_FILE,
    export_dirname,
    is_complete,
    provenance,
    read_json,
)
from sdk.spec import SPEC_FILENAME, DetectorSpec

DEFAULT_OUT = Path("exports")
LATENCY_WARMUP = 3  # first runs build XNNPACK/wasm state: never timed


class ExportStatus(StrEnum):
    """What became of one export (its value is what the tables and ``--json`` show)."""

    OK = "ok"  # parity passed
    UNCHECKED = "unchecked"  # no runtime here (e.g. TF.js without Node): validated structurally
    DEGRADED = "degraded"  # over budget, kept with allow_degraded
    UP_TO_DATE = "up-to-date"  # skip_up_to_date: the folder was already this export
    FAILED = "failed"  # over budget: nothing written
    ERROR = "error"  # refused or the converter failed: nothing written


_STATUS = {Verdict.PASS: ExportStatus.OK, Verdict.SKIPPED: ExportStatus.UNCHECKED,
           Verdict.FAIL: ExportStatus.DEGRADED}


@dataclass(frozen=True)
class ExportJob:
    """Everything one ``sdk export`` asks for.

    Attributes:
        model: ``fast``, ``accurate``, a ``sdk train`` folder, a SavedModel export, or an
            already opened :class:`ExportSource` (shared by several exports).
        format: A registered format (``all`` too for :mod:`exporters.matrix`).
        quantization: One of the format's (None: its default; for the matrix also ``all``
            or a comma-separated list).
        out_root: Folder receiving ``<model>-<format>-<quantization>/``.
        calib: Calibration images (folder, dataset root or a loaded set); default: the
            train split of ``data``, else for a bundled model its regenerated train images.
        data: Dataset root or loaded dataset: its ``split`` gives each artifact's mAP and
            ΔmAP.
        split: The evaluation split of ``data``.
        measure_map: Without ``data``, measure a bundled model's artifacts on its
            regenerated validation images (:mod:`exporters.accuracy`).
        force: Replace an existing folder.
        skip_up_to_date: Keep a complete folder exported from the same source weights by
            the same sdk version; replace it when it is stale.
        allow_degraded: Keep an export that misses its parity budget.
        budgets: Per budget class, overrides of :data:`exporters.parity.DEFAULT_BUDGETS`.
        options: Format options (see :attr:`ExportFormat.options`).
        probes: The probe images (default :func:`exporters.probes.probe_set`).
        latency_runs: Timed inferences after the gate (0: none).
    """

    model: str | Path | ExportSource
    format: str
    quantization: str | None = None
    out_root: str | Path = DEFAULT_OUT
    calib: str | Path | CalibrationSet | None = None
    data: str | Path | Dataset | None = None
    split: str = "val"
    force: bool = False
    skip_up_to_date: bool = False
    allow_degraded: bool = False
    budgets: Mapping[str, Budget] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    probes: ProbeSet | None = None
    latency_runs: int = 0
    measure_map: bool = True

    @property
    def source_name(self) -> str:
        """The model's short name in folder names, known before loading it."""
        return self.model.name if isinstance(self.model, ExportSource) else source_name(
            self.model)


@dataclass
class ExportResult:
    """What one export produced and measured.

    Attributes:
        status: See :class:`ExportStatus` (``ok``, ``unchecked``, ``degraded`` or
            ``up-to-date``; the other two are rows of exports that raised).
        variant: The quantization actually produced (differs after a fallback).
    """

    format: str
    quantization: str
    variant: str
    status: ExportStatus
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


@dataclass(frozen=True)
class ExportPlan:
    """The cheap, checked part of an export: handler, quantization and destination."""

    handler: ExportFormat
    quantization: str
    dest: Path
    up_to_date: bool = False


@dataclass
class _Attempt:
    variant: str
    artifact: Path
    spec: DetectorSpec
    report: ParityReport
    runner: Runner | None


def _is_up_to_date(dest: Path, job: ExportJob) -> bool:
    """``dest`` is a complete export of the same source weights by this sdk version, with
    its mAP measured when this job would measure it."""
    if not is_complete(dest) or read_json(dest / PARITY_FILE) is None:
        return False
    prov = provenance(dest)
    sha = prov.get("source_weights_sha256")
    if not (sha is not None and prov.get("sdk_version") == __version__
            and sha == source_weights_sha256(job.model)):
        return False
    return not (_measures_by_default(job) and _measured_map(dest) is None)


def _measures_by_default(job: ExportJob) -> bool:
    """The job measures mAP on a bundled model's own data (no --data given)."""
    return job.data is None and job.measure_map and source_recipe(job.model) is not None


def _measured_map(folder: Path) -> float | None:
    """The artifact mAP an export folder's detector.json records, if any."""
    spec = read_json(folder / SPEC_FILENAME) or {}
    artifact = ((spec.get("metrics") or {}).get("accuracy") or {}).get("artifact") or {}
    return artifact.get("mAP")


def _calibration_given(job: ExportJob) -> object | None:
    """What calibrates the job: --calib, else --data, else a bundled model's own data."""
    if job.calib is not None:
        return job.calib
    if job.data is not None:
        return job.data
    return source_recipe(job.model)


def prepare(job: ExportJob) -> ExportPlan:
    """Check format, quantization, options, calibration and destination before any work."""
    handler = get_format(job.format)(**job.options)
    quantization = job.quantization or handler.default_quantization
    handler.check_args(quantization, _calibration_given(job))
    if (quantization in handler.calibrated and isinstance(job.calib, str | Path)
            and not is_photos(job.calib)):
        require_folder(job.calib)  # fail now, not after loading the model
    dest = Path(job.out_root) / export_dirname(job.source_name, job.format, quantization)
    if job.skip_up_to_date and _is_up_to_date(dest, job):
        return ExportPlan(handler, quantization, dest, up_to_date=True)
    occupied = dest.exists() and (dest.is_file() or any(dest.iterdir()))
    stale = job.skip_up_to_date and is_complete(dest)  # an older export of the same name
    if occupied and not (job.force or stale):
        raise OutputExistsError(f"{dest} already exists: pass --force to overwrite it")
    return ExportPlan(handler, quantization, dest)


def kept_result(plan: ExportPlan) -> ExportResult:
    """The result of an up-to-date folder, read back from it (nothing is rewritten)."""
    spec = DetectorSpec.load(plan.dest)
    artifact = plan.handler.artifact_in(plan.dest)
    report = ParityReport.from_dict(read_json(plan.dest / PARITY_FILE) or {})
    return ExportResult(
        format=plan.handler.name, quantization=plan.quantization,
        variant=spec.provenance.get("quantization", plan.quantization),
        status=ExportStatus.UP_TO_DATE, out_dir=plan.dest, artifact=artifact, spec=spec,
        parity=report, size_bytes=plan.handler.artifact_size(artifact), seconds=0.0,
        runtime=report.runtime,
        notes=[f"kept: exported from the same weights by sdk {__version__}"])


def resolve_dataset(data: str | Path | Dataset | None, split: str) -> Dataset | None:
    """``data`` loaded (its ``split``) unless it already is a dataset or None."""
    if data is None or isinstance(data, Dataset):
        return data
    return load_dataset(data, split)


def _calibration(fmt: ExportFormat, quantization: str, job: ExportJob,
                 source: ExportSource) -> CalibrationSet | None:
    if quantization not in fmt.calibrated:
        return None
    spec = source.spec
    if isinstance(job.calib, CalibrationSet):
        return job.calib
    if is_photos(job.calib):
        return source.memo("photo-calibration", lambda: photo_calibration(spec.input))
    if job.calib is not None:
        return load_calibration(job.calib, spec.input)
    if job.data is None and source.recipe is not None:  # the bundled model's train images
        recipe = source.recipe
        return source.memo("bundled-calibration",
                           lambda: bundled_calibration(recipe, spec.input))
    root = job.data.root if isinstance(job.data, Dataset) else job.data
    return load_calibration(root, spec.input)  # a dataset root: its train split


@dataclass
class _Build:
    """The state shared by the attempts of one export."""

    fmt: ExportFormat
    source: ExportSource
    tmp: Path
    calib: CalibrationSet | None
    probes: ProbeSet
    eval_set: Dataset | None
    budgets: Mapping[str, Budget]

    def attempt(self, variant: str) -> _Attempt:
        """Convert one variant into ``tmp`` and run the parity gate on it."""
        fmt, calib = self.fmt, self.calib
        artifact = fmt.convert(self.source, self.tmp, variant, calib)
        spec = fmt.artifact_spec(artifact, self.source.spec.with_provenance(**export_provenance(
            fmt.name, variant, calib.sha256 if calib else None, fmt.converter_versions())))
        budget = self.budgets[fmt.budget_class[variant]]
        try:
            runner = fmt.runner(artifact, spec)
        except RunnerUnavailableError as exc:
            return _Attempt(variant, artifact, spec, ParityReport.skipped(str(exc)), None)
        report = check_parity(runner, spec, self.source, self.probes, budget, self.eval_set)
        return _Attempt(variant, artifact, spec, report, runner)

    def first_passing(self, quantization: str) -> tuple[_Attempt, list[str]]:
        """Convert and check each variant until one passes; returns the last and the notes."""
        notes = [self.calib.warning] if self.calib is not None and self.calib.warning else []
        first, *fallbacks = self.fmt.variants(quantization)
        attempt = self.attempt(first)
        for fallback in fallbacks:
            if attempt.report.verdict != Verdict.FAIL:
                break
            notes.append(f"{attempt.variant} missed its parity budget "
                         f"({'; '.join(attempt.report.reasons)}); retried as {fallback}")
            for child in self.tmp.iterdir():  # the retry starts from an empty folder
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            attempt = self.attempt(fallback)
        return attempt, notes


def _metrics(report: ParityReport, latency: list[float], runtime: str,
             source: ExportSource, eval_set: Dataset | None) -> dict[str, Any]:
    import numpy as np

    metrics: dict[str, Any] = {"parity": report.verdict.value, "probes": report.probes,
                               "raw": report.raw, "detections": report.detections,
                               "accuracy": accuracy_section(source.accuracy, report.metrics,
                                                            eval_set)}
    if report.metrics:
        metrics["eval"] = {"split": report.metrics["split"], **report.metrics["artifact"],
                           "delta_mAP": report.metrics["delta_mAP"]}
    if latency:
        metrics["latency_ms"] = {"p50": float(np.percentile(latency, 50)),
                                 "p90": float(np.percentile(latency, 90)),
                                 "runs": len(latency), "runtime": runtime}
    return metrics


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _finish(build: _Build, dest: Path, attempt: _Attempt, latency: list[float],
            notes: list[str]) -> tuple[DetectorSpec, dict[str, Any]]:
    """Embed and write detector.json, validate, write parity.json, reference.json, README."""
    fmt, tmp = build.fmt, build.tmp
    runtime = attempt.runner.description if attempt.runner else ""
    spec = attempt.spec.with_metrics(**_metrics(attempt.report, latency, runtime,
                                                build.source, build.eval_set))
    fmt.embed_metadata(attempt.artifact, spec)
    checks = fmt.validate(attempt.artifact, spec)
    spec.save(tmp / SPEC_FILENAME)
    _write_json(tmp / PARITY_FILE, attempt.report.to_dict())
    _write_json(tmp / REFERENCE_FILE, reference_json(build.source, build.probes))
    for licence in build.source.licenses:  # an imported model's terms travel with every export
        shutil.copyfile(licence, tmp / licence.name)
    files = sorted(p.name for p in tmp.iterdir() if p.name != SPEC_FILENAME)
    (tmp / "README.md").write_text(readme_text(
        dest.name, spec, files, attempt.report.summary(), notes, fmt.usage, fmt.python_runtime))
    return spec, checks


def _latency(attempt: _Attempt, probes: ProbeSet, runs: int) -> list[float]:
    if attempt.runner is None or not runs:
        return []
    inputs = probes.inputs(attempt.spec)[:1]  # a real image, not zeros
    return attempt.runner.latency(inputs, runs, LATENCY_WARMUP)


def _build(job: ExportJob, plan: ExportPlan, source: ExportSource,
           eval_set: Dataset | None) -> ExportResult:
    """Convert, gate, finish; the folder appears at ``plan.dest`` only if all succeeds."""
    handler, started = plan.handler, time.perf_counter()
    calib = _calibration(handler, plan.quantization, job, source)
    if eval_set is None and job.data is None and job.measure_map:
        eval_set = bundled_eval_set(source)
    probes = job.probes or probe_set()
    budgets = {**DEFAULT_BUDGETS, **(job.budgets or {})}
    with atomic_dir(plan.dest, overwrite=True) as tmp:
        build = _Build(handler, source, tmp, calib, probes, eval_set, budgets)
        attempt, notes = build.first_passing(plan.quantization)
        report = attempt.report
        if report.verdict == Verdict.FAIL and not job.allow_degraded:
            raise ParityError(f"{plan.dest.name}: parity gate failed: "
                              f"{'; '.join(report.reasons)}", report)
        latency = _latency(attempt, probes, job.latency_runs)
        spec, checks = _finish(build, plan.dest, attempt, latency, notes)
    artifact = plan.dest / attempt.artifact.relative_to(tmp)
    return ExportResult(
        format=handler.name, quantization=plan.quantization, variant=attempt.variant,
        status=_STATUS[report.verdict], out_dir=plan.dest, artifact=artifact, spec=spec,
        parity=report, size_bytes=handler.artifact_size(artifact),
        seconds=time.perf_counter() - started, latency_ms=latency,
        runtime=attempt.runner.description if attempt.runner else "", checks=checks,
        notes=notes)


def run_export(job: ExportJob) -> ExportResult:
    """Run one export job (a single format and quantization); see :func:`export`."""
    plan = prepare(job)
    if plan.up_to_date:
        return kept_result(plan)
    eval_set = resolve_dataset(job.data, job.split)
    with contextlib.ExitStack() as stack:
        source = job.model if isinstance(job.model, ExportSource) else stack.enter_context(
            open_source(job.model))
        return _build(job, plan, source, eval_set)


def export(model: str | Path | ExportSource, fmt: str, quantization: str | None = None,
           out_root: str | Path = DEFAULT_OUT, calib: str | Path | CalibrationSet | None = None,
           data: str | Path | Dataset | None = None, force: bool = False,
           allow_degraded: bool = False, budgets: Mapping[str, Budget] | None = None,
           split: str = "val", options: Mapping[str, Any] | None = None,
           probes: ProbeSet | None = None, latency_runs: int = 0) -> ExportResult:
    """Export ``model`` to ``fmt`` into ``out_root/<model>-<fmt>-<quantization>/``.

    The keyword form of :func:`run_export` (the fields of :class:`ExportJob`). ``data`` is a
    dataset root (its ``split`` is the evaluation split; its train split calibrates when
    ``calib`` is not given). ``budgets`` overrides :data:`exporters.parity.DEFAULT_BUDGETS`
    per class.

    Raises:
        ExportError: a typed subclass for every user-fixable failure (unknown format, bad
            quantization, missing calibration, existing output, converter failure) and
            :class:`ParityError` when over budget without ``allow_degraded``.
    """
    return run_export(ExportJob(
        model=model, format=fmt, quantization=quantization, out_root=out_root, calib=calib,
        data=data, split=split, force=force, allow_degraded=allow_degraded, budgets=budgets,
        options=options or {}, probes=probes, latency_runs=latency_runs))
