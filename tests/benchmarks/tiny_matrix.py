"""Real export matrices of the tiny Fast and Accurate detectors, shared by the smoke tests.

``sdk export --format ... --quantize all --data`` on the 96 px untrained tiny models: the
exact JSON schema the benchmark scripts read, written by the real matrix writer. Built once
per session (TFLite all quantizations + SavedModel, ~1 min for both models).
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("tflite", "savedmodel")
_built: dict[Path, dict[str, Path]] = {}


def tiny_matrices(root: Path, data: Path, models: dict[str, Path]) -> dict[str, Path]:
    """``{name: <root>/<name>-matrix.json}`` for each tiny model, built on first call."""
    if root in _built:
        return _built[root]
    from exporters.matrix import run_matrix, write_tables
    from exporters.source import open_source

    paths = {}
    for name, model in models.items():
        rows = []
        with open_source(model) as source:  # staged once for both formats
            for fmt in FORMATS:
                rows += run_matrix(source, fmt, "all", root, data=data, latency_runs=3,
                                   allow_degraded=True)[0]
        paths[name] = write_tables(rows, root, name, f"tiny {name} matrix")[0]
    _built[root] = paths
    return paths


def fake_row(fmt: str, quantization: str, size_mb: float, p50_ms: float | None,
             mAP: float | None, ap_small: float | None = None, status: str = "ok",
             ) -> dict:
    """One matrix row with the keys of ``exporters.matrix.result_row`` (hand-set values)."""
    delta = None if mAP is None else round(100 * (0.5 - mAP), 3)  # source mAP 0.5
    metrics = None if mAP is None else {"source": {"mAP": 0.5}, "delta_mAP": delta,
                                        "artifact": {"mAP": mAP, "AP_small": ap_small}}
    return {"format": fmt, "quantization": quantization, "status": status,
            "size_mb": size_mb, "mAP": mAP, "mAP50": mAP, "delta_mAP": delta,
            "p50_ms": p50_ms, "p90_ms": None if p50_ms is None else p50_ms * 1.1,
            "parity": "pass" if mAP is not None else "skipped", "runtime": f"{fmt} runtime",
            "seconds": 1.0, "out_dir": f"exports/x-{fmt}-{quantization}", "notes": [],
            "parity_report": {"verdict": "pass", "metrics": metrics}}
