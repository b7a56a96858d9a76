"""The path ``make demo`` takes, with the real exporter: export, serve, skip when up to date.

The export command is read from the Makefile's ``demo`` recipe, so this test runs what a
person runs; only the quantizations are cut to fp32 (one real export, about two minutes on
two cores) and the output goes to a temporary folder.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from device_bench.db import shutdown
from sdk.exports import export_dirname, is_complete, reference_detections
from sdk.probes import pixels_sha256, synthetic_probes
from web_demo import create_app
from web_demo.variants import artifact_sha256

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def demo_recipe() -> list[list[str]]:
    """The commands of the Makefile's ``demo`` target, ``$(BIN)`` resolved to this venv."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(shlex.split(line.replace("$(BIN)", str(Path(sys.executable).parent))))
    return recipe


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def _with_option(command: list[str], name: str, value: str) -> list[str]:
    changed = list(command)
    changed[changed.index(name) + 1] = value
    return changed


def test_demo_recipe_exports_what_it_serves() -> None:
    *exports, serve = demo_recipe()
    assert [c[1:3] for c in exports] == [["export", "--format"]] * 2
    assert [_option(c, "--model") for c in exports] == ["fast", "accurate"]
    for command in exports:
        assert _option(command, "--format") == "tfjs" and "--skip-up-to-date" in command
        assert _option(command, "--quantize") == "fp32,fp16,uint8"
        assert _option(command, "--out") == _option(serve, "--exports")
    assert serve[1] == "serve"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """The recipe's ``fast`` export, fp32 only, run once: (command, exports folder)."""
    out = tmp_path_factory.mktemp("make-demo") / "exports"
    command = next(c for c in demo_recipe() if "--model" in c and _option(c, "--model") == "fast")
    command = _with_option(_with_option(command, "--quantize", "fp32"), "--out", str(out))
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return command, out


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
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    assert {p.name: p.stat().st_mtime_ns for p in [folder, *folder.iterdir()]} == before
