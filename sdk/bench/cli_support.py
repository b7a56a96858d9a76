"""Pieces of ``sdk bench``: find the export, pick the reference, print and submit."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from sdk.probes import synthetic_probes


def model_sha256(folder: Path) -> str:
    """sha256 of the export's model file: the identity the collector checks reports against."""
    candidates = sorted(folder.glob("*.tflite")) or sorted(folder.glob("model.json")) or \
        sorted(folder.glob("saved_model.pb"))
    if not candidates:
        raise click.ClickException(f"{folder}: no model file (.tflite, model.json, saved_model.pb)")
    return hashlib.sha256(candidates[0].read_bytes()).hexdigest()


def resolve_export(model: str, fmt: str, quant: str, exports: Path) -> tuple[Path, dict]:
    """Export folder + the report's ``model`` section; clear error when it is not exported."""
    folder = Path(model) if Path(model).is_dir() else exports / f"{model}-{fmt}-{quant}"
    if not folder.is_dir():
        raise click.ClickException(
            f"{folder} not found: export it first with "
            f"'sdk export --format {fmt} --model {model} --quantize {quant}'")
    from sdk.spec import DetectorSpec

    spec = DetectorSpec.load(folder)
    name = spec.provenance.get("architecture", Path(model).name)
    info = {"name": str(name), "format": spec.provenance.get("format", fmt),
            "quantization": spec.provenance.get("quantization", quant),
            "sha256": model_sha256(folder)}
    return folder, info


def _reference(folder: Path, info: dict, threads: int | None, exports: Path, probes) -> Any:
    """fp32 TFLite detections of the same model on the probes, when that export exists."""
    from sdk.bench.runner import detections_on

    ref = exports / f"{info['name']}-tflite-fp32"
    if info["quantization"] == "fp32" or not ref.is_dir():
        return None
    import sdk

    return detections_on(sdk.load(ref, num_threads=threads), probes)


def run_cli_benchmark(folder: Path, info: dict, threads: int | None, exports: Path) -> dict:
    """Run the protocol on ``folder`` with the fixed synthetic probes."""
    from sdk.bench.runner import run_benchmark

    probes = synthetic_probes()
    reference = _reference(folder, info, threads, exports, probes)
    return run_benchmark(folder, probes, reference, info, threads)


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
           "accuracy": "ok" if report["accuracy"]["passed"] else "FAILED"}
    print_rows(f"Device benchmark (protocol v{report['protocol_version']})", [row], False)


def submit_to(server: str, report: dict, token: str | None) -> str:
    """POST the report; returns a one-line outcome. The report id makes retries safe."""
    url = f"{server.rstrip('/')}/api/v1/reports"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, json.dumps(report).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - user's URL
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(f"{url}: {exc.code} {exc.read()[:500].decode()}") from exc
    except OSError as exc:
        raise click.ClickException(f"{url}: cannot submit ({exc})") from exc
    verdict = "valid" if body.get("valid") else f"invalid ({'; '.join(body.get('reasons', []))})"
    return f"submitted {report['report_id']} to {url}: {verdict}"
