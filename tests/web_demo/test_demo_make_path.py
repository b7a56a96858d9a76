"""The path ``make demo`` takes, with the real exporter: export, serve, skip when up to date.

The export command is read from the Makefile's ``demo`` recipe, so this test runs what a
person runs; only the quantizations are cut to fp32 (one real export, about two minutes on
two cores) and the output goes to a temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from device_bench.db import shutdown
from sdk.exports import export_dirname, is_complete, reference_detections
from sdk.probes import pixels_sha256, synthetic_probes
from tests.web_demo.make_demo import demo_recipe, option, run
from web_demo import create_app
from web_demo.variants import artifact_sha256

pytestmark = pytest.mark.slow


def test_demo_recipe_exports_what_it_serves() -> None:
    *exports, serve = demo_recipe()
    assert [c[1:3] for c in exports] == [["export", "--format"]] * 9
    bundled, imported = exports[:6], exports[6:]
    assert [option(c, "--model") for c in bundled] == ["fast", "accurate"] * 3
    # Every format a browser engine runs: TF.js, LiteRT.js (tflite), onnxruntime-web (onnx).
    quantize = {"tfjs": "fp32,fp16,uint8", "tflite": "fp32,int8", "onnx": "fp32,int8"}
    assert [option(c, "--format") for c in bundled] == [f for f in quantize for _ in "ab"]
    # The COCO NanoDet `make nanodet` imports, in the same formats; int8 calibrated on
    # real photos (it comes without data of its own).
    assert [option(c, "--model") for c in imported] == ["models/nanodet"] * 3
    assert [option(c, "--format") for c in imported] == list(quantize)
    assert all(option(c, "--calib") == "photos" for c in imported
               if "int8" in option(c, "--quantize").split(","))
    for command in exports:
        assert "--skip-up-to-date" in command
        assert option(command, "--quantize") == quantize[option(command, "--format")]
        assert option(command, "--out") == option(serve, "--exports")
    assert serve[1] == "serve"


@pytest.fixture(scope="module")
def exported(make_demo_export: tuple[list[str], Path]) -> tuple[list[str], Path]:
    """The recipe's ``fast`` export, fp32 only, run once (see conftest.make_demo_export)."""
    return make_demo_export


@pytest.fixture
def served(exported: tuple[list[str], Path], tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "EXPORTS_DIR": str(exported[1]),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite'}"})
    yield app
    shutdown(app)


def test_real_export_is_listed_served_and_drives_the_benchmark_reference(
        exported: tuple[list[str], Path], served: Flask) -> None:
    name = export_dirname("fast", "tfjs", "fp32")
    folder = exported[1] / name
    assert is_complete(folder)
    written = reference_detections(folder)
    assert written is not None, "sdk export wrote no reference.json"
    assert sum(map(len, written["detections"])) > 0  # the bundled model finds shapes
    client = served.test_client()

    listing = {v["name"]: v for v in client.get("/api/models").json["variants"]}
    variant = listing[name]
    assert variant["status"] == "ready" and variant["reference"] is True
    assert variant["sha256"] == artifact_sha256(folder) and variant["message"] == ""
    assert variant["map"] is not None and variant["map_basis"] == "artifact"  # measured
    assert listing[export_dirname("fast", "tfjs", "fp16")]["status"] == "missing"

    manifest = client.get(f"/models/{name}/model.json")
    assert manifest.status_code == 200 and manifest.data == (folder / "model.json").read_bytes()
    shards = [p for group in manifest.json["weightsManifest"] for p in group["paths"]]
    assert shards
    for shard in shards:
        assert client.get(f"/models/{name}/{shard}").data == (folder / shard).read_bytes()

    body = client.get(f"/api/models/{name}/reference").json
    assert [p["detections"] for p in body["probes"]] == written["detections"]
    assert [p["sha256"] for p in body["probes"]] == [pixels_sha256(im)
                                                     for im in synthetic_probes()]


def test_second_run_skips_the_up_to_date_export(exported: tuple[list[str], Path]) -> None:
    command, out = exported
    folder = out / export_dirname("fast", "tfjs", "fp32")
    before = {p.name: p.stat().st_mtime_ns for p in [folder, *folder.iterdir()]}
    result = run(command)
    assert result.returncode == 0, result.stderr[-4000:]
    assert {p.name: p.stat().st_mtime_ns for p in [folder, *folder.iterdir()]} == before
