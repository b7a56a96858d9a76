"""Pieces of ``sdk bench``: find the export and its reference detections, print, submit."""

from __future__ import annotations

import hashlib
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from sdk.exports import REFERENCE_FILE, export_dirname, reference_detections, variant_accuracy
from sdk.probes import pixels_sha256, synthetic_probes


def model_sha256(folder: Path) -> str:
    """sha256 of the export's model file: the identity the collector checks reports against.

    The model is the one ``sdk.load`` would run; a folder model (SavedModel) is identified by
    its engine's marker file (``saved_model.pb``).
    """
    from sdk.runtime.locate import locate
    from sdk.runtime.registry import engine_for_path

    model, _ = locate(folder)
    engine = engine_for_path(model)
    path = engine.model_file(model) if engine is not None else model
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve_export(model: str, fmt: str, quant: str, exports: Path) -> tuple[Path, dict]:
    """Export folder + the report's ``model`` section; clear error when it is not exported.

    Raises:
        click.ClickException: no such export folder.
        RuntimeLoadError, SpecError: the folder holds no runnable model or no valid spec.
    """
    folder = Path(model) if Path(model).is_dir() else exports / export_dirname(model, fmt, quant)
    if not folder.is_dir():
        raise click.ClickException(
            f"{folder} not found: export it first with "
            f"'sdk export --format {fmt} --model {model} --quantize {quant}'")
    from sdk.spec import DetectorSpec

    spec = DetectorSpec.load(folder)
    name = spec.provenance.get("architecture", Path(model).name)
    accuracy = variant_accuracy(folder)  # the report carries the variant's mAP
    info = {"name": str(name), "format": spec.provenance.get("format", fmt),
            "quantization": spec.provenance.get("quantization", quant),
            "sha256": model_sha256(folder), "map": accuracy.map, "map_basis": accuracy.basis}
    return folder, info


def export_reference(folder: Path, probes: Sequence[np.ndarray],
                     ) -> tuple[list[list[dict[str, Any]]] | None, str]:
    """The export's own fp32 reference detections on ``probes`` (its ``reference.json``).

    Returns ``(detections, "")``, or ``(None, why)`` when the folder has no usable
    reference (a hand-made export, or one computed on other probe images): the benchmark
    then compares the model with itself.

    Raises:
        click.ClickException: a ``reference.json`` whose detections are malformed.
    """
    data = reference_detections(folder)
    if data is None:
        return None, f"no usable {REFERENCE_FILE} in the export"
    probes_info = data.get("probes")
    stored = probes_info.get("sha256") if isinstance(probes_info, dict) else None
    if stored != [pixels_sha256(p) for p in probes]:
        return None, f"{REFERENCE_FILE} was computed on other probe images"
    return _checked_detections(folder / REFERENCE_FILE, data.get("detections"), len(probes)), ""


def _checked_detections(path: Path, detections: Any, images: int) -> list[list[dict[str, Any]]]:
    if not (isinstance(detections, list) and len(detections) == images
            and all(isinstance(found, list) for found in detections)):
        raise click.ClickException(f"{path}: 'detections' must hold one list per probe image "
                                   f"({images})")
    for i, found in enumerate(detections):
        for j, det in enumerate(found):
            box = det.get("box") if isinstance(det, dict) else None
            if not (isinstance(box, list) and len(box) == 4
                    and all(isinstance(v, int | float) for v in box)
                    and isinstance(det.get("label"), str)
                    and isinstance(det.get("score"), int | float)):
                raise click.ClickException(f"{path}: detections[{i}][{j}] is not "
                                           f"{{'box': [x1, y1, x2, y2], 'label', 'score'}}")
    return detections


def run_cli_benchmark(folder: Path, info: dict, threads: int | None) -> dict:
    """Run the protocol on ``folder`` with the fixed probes and the export's reference."""
    from sdk.bench.runner import run_benchmark

    probes = synthetic_probes()
    reference, why_not = export_reference(folder, probes)
    return run_benchmark(folder, probes, reference, info, threads, why_no_reference=why_not)


def print_report(report: dict) -> None:
    """The result table a person reads."""
    from sdk.commands.console import print_rows

    t, lat = report["timing"], report["timing"]["latency_ms"]
    row = {"model": f"{report['model']['name']}/{report['model']['format']}/"
                    f"{report['model']['quantization']}",
           "backend": report["runtime"]["backend"], "threads": report["runtime"]["threads"],
           "load ms": t["load_ms"], "first ms": t["first_inference_ms"], "runs": t["runs"],
           "p50 ms": lat["p50"], "p90 ms": lat["p90"], "p99 ms": lat["p99"], "FPS": t["fps"],
           **{f"{k} ms": v for k, v in t["stages_ms"].items()},
           "accuracy": "ok" if report["accuracy"]["passed"] else "FAILED",
           "mAP": report["model"].get("map")}
    print_rows(f"Device benchmark (protocol v{report['protocol_version']})", [row], False)


def submit_to(server: str, report: dict, token: str | None, cafile: str | None = None) -> str:
    """POST the report; returns a one-line outcome. The report id makes retries safe.

    ``cafile``: the PEM certificate to trust for an HTTPS collector with a self-signed one.
    """
    url = f"{server.rstrip('/')}/api/v1/reports"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, json.dumps(report).encode(), headers, method="POST")
    try:
        context = ssl.create_default_context(cafile=cafile) if cafile else None
        with urllib.request.urlopen(req, timeout=30,  # noqa: S310 - user's URL
                                    context=context) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"{url}: {exc.code} {exc.read()[:500].decode()}") from exc
    except OSError as exc:
        raise click.ClickException(f"{url}: cannot submit ({exc})") from exc
    verdict = "valid" if body.get("valid") else f"invalid ({'; '.join(body.get('reasons', []))})"
    return f"submitted {report['report_id']} to {url}: {verdict}"
