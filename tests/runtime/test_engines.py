"""The engine registry: every engine registered and well declared; a new engine is one file
plus one registry line, and location, loading and ``sdk bench`` pick it up (no TensorFlow)."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import sdk
import sdk.runtime
from sdk.bench.cli_support import model_sha256
from sdk.bench.protocol import LoopBounds
from sdk.bench.runner import run_benchmark
from sdk.runtime import RuntimeLoadError
from sdk.runtime.backends import Backend, open_backend
from sdk.runtime.registry import (
    ENGINES,
    engine_for_format,
    engine_names,
    get_engine,
    runnable_formats,
)
from sdk.spec import DetectorSpec
from tests.core.subclasses import defined_subclasses
from tests.runtime.npz_engine import REGISTRY_ENTRY, write_npz_export


def test_every_engine_class_is_registered():
    registered = {get_engine(name) for name in ENGINES}
    missing = defined_subclasses(sdk.runtime, Backend) - registered
    assert not missing, f"Backend subclasses missing from sdk.runtime.registry.ENGINES: {missing}"


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_engine_declarations_are_consistent(name):
    cls = get_engine(name)
    assert cls.engine == name and cls.formats and not inspect.isabstract(cls)
    assert (cls.suffix is None) != (cls.marker is None), "a suffix or a marker file, not both"
    assert cls.suffix is None or cls.suffix.startswith(".")
    assert cls.runtime and cls.accelerator


def test_unknown_engine_lists_the_registered_ones():
    with pytest.raises(KeyError, match="registered: tflite, onnx, savedmodel"):
        get_engine("coreml")
    assert engine_names() == tuple(ENGINES)
    assert engine_for_format("tflite") is get_engine("tflite")
    assert engine_for_format("tfjs") is None  # the browser runs it


def test_bench_format_choices_come_from_the_registry():
    from sdk.commands.bench import bench

    (fmt,) = [p for p in bench.params if p.name == "fmt"]
    assert tuple(fmt.type.choices) == runnable_formats() == ("tflite", "onnx", "savedmodel")


@pytest.fixture
def npz_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An export folder of the test engine, registered for this test only."""
    monkeypatch.setitem(ENGINES, *REGISTRY_ENTRY)
    return write_npz_export(tmp_path / "shapes-npz-fp32")


def test_a_registered_engine_is_located_opened_and_run(npz_export):
    assert "npz" in runnable_formats()
    det = sdk.load(npz_export)
    assert det.backend.name == "npz/numpy" and det.source == npz_export / "model.npz"
    found = det.detect(np.zeros((50, 200, 3), np.uint8))
    # the same pipeline as every engine: NMS drops the overlapping 0.8 circle, stretch maps
    # normalized boxes to the 200x50 image
    assert [(d.label, d.score) for d in found] == [("circle", pytest.approx(0.9)),
                                                   ("square", pytest.approx(0.7))]
    assert found[0].box == pytest.approx((20.0, 5.0, 100.0, 25.0))
    assert sdk.load(npz_export / "model.npz").detect(np.zeros((50, 200, 3), np.uint8)) == found


def test_the_engine_checks_the_contract_at_load(npz_export):
    spec = DetectorSpec.load(npz_export)
    with pytest.raises(RuntimeLoadError, match=r"expects \[1, 3, 3\] \(3 labels\)"):
        open_backend(npz_export / "model.npz", replace(spec, labels=("a", "b", "c")))
    with pytest.raises(RuntimeLoadError, match="no runnable model.*a .npz file"):
        open_backend(npz_export / "model.pt", spec)


def test_sdk_bench_reports_the_engine_declarations(npz_export):
    probes = [np.full((40, 60, 3), v, np.uint8) for v in (0, 128)]
    report = run_benchmark(npz_export, probes, None, {"name": "shapes"},
                           warmup=LoopBounds(1, 0.0, 2, 1.0),
                           measure=LoopBounds(3, 0.0, 5, 1.0))
    assert report["runtime"]["name"] == "replay" and report["runtime"]["backend"] == "cpu"
    assert report["runtime"]["version"] == np.__version__
    assert report["notes"] == "no fp32 reference: self-fingerprint"
    assert 3 <= report["timing"]["runs"] <= 5 and report["accuracy"]["passed"]
    digest = hashlib.sha256((npz_export / "model.npz").read_bytes()).hexdigest()
    assert model_sha256(npz_export) == digest
