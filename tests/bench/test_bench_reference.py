"""``sdk bench`` compares with the export's own ``reference.json`` (no TensorFlow: the models
are replayed by the registry's test engine, ``tests/runtime/npz_engine.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import sdk
from sdk.bench.cli_support import export_reference
from sdk.bench.protocol import LoopBounds
from sdk.cli import main
from sdk.exports import REFERENCE_FILE, reference_document
from sdk.pipeline import as_dicts
from sdk.probes import pixels_sha256, probe_description, synthetic_probes
from sdk.runtime.registry import ENGINES
from tests.runtime.npz_engine import LABELS, REGISTRY_ENTRY, write_npz_export


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import sdk.bench.runner as runner

    monkeypatch.setitem(ENGINES, *REGISTRY_ENTRY)
    monkeypatch.setattr(runner, "WARMUP", LoopBounds(1, 0.0, 2, 1.0))
    monkeypatch.setattr(runner, "MEASURE", LoopBounds(3, 0.0, 5, 1.0))
    return write_npz_export(tmp_path / "shapes-npz-fp32")


def _write_reference(folder: Path, detections: list, probes=None) -> None:
    probes = synthetic_probes() if probes is None else probes
    info = {"description": probe_description(), "sha256": [pixels_sha256(p) for p in probes]}
    document = reference_document(LABELS, info, detections, "test")
    (folder / REFERENCE_FILE).write_text(json.dumps(document))


def _own_detections(folder: Path) -> list:
    det = sdk.load(folder)
    return [as_dicts(det.detect_arrays(p), det.labels) for p in synthetic_probes()]


def _bench(folder: Path) -> dict:
    result = CliRunner().invoke(main, ["bench", "--model", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_exports_reference_is_used(export):
    _write_reference(export, _own_detections(export))
    report = _bench(export)
    assert "notes" not in report
    assert report["accuracy"]["passed"] and report["accuracy"]["matched_fraction"] == 1.0
    assert report["runtime"]["name"] == "replay" and report["model"]["format"] == "npz"


def test_a_reference_the_model_does_not_reproduce_fails(export):
    wrong = [[{**d, "label": "square" if d["label"] == "circle" else "circle"} for d in dets]
             for dets in _own_detections(export)]
    _write_reference(export, wrong)
    report = _bench(export)
    assert not report["accuracy"]["passed"] and report["accuracy"]["matched_fraction"] == 0.0


def test_without_reference_the_model_is_compared_with_itself(export):
    report = _bench(export)
    assert report["notes"] == f"no usable {REFERENCE_FILE} in the export: self-fingerprint"
    assert report["accuracy"]["passed"]


def test_a_reference_on_other_probe_images_is_not_used(export):
    _write_reference(export, [[]] * 2, probes=synthetic_probes(2, seed=1))
    assert export_reference(export, synthetic_probes()) == (
        None, f"{REFERENCE_FILE} was computed on other probe images")


@pytest.mark.parametrize(("detections", "where"), [
    ([[]] * 3, "one list per probe image"),
    ([[{"box": [0, 0, 1], "label": "circle", "score": 0.5}]] + [[]] * 7, r"detections\[0\]\[0\]"),
    ([[]] * 7 + [[{"box": [0, 0, 1, 1], "label": 3, "score": 0.5}]], r"detections\[7\]\[0\]"),
])
def test_a_malformed_reference_names_the_file_and_entry(export, detections, where):
    _write_reference(export, detections)
    result = CliRunner().invoke(main, ["bench", "--model", str(export)])
    assert result.exit_code == 1
    assert str(export / REFERENCE_FILE) in result.output
    assert re.search(where, result.output), result.output
