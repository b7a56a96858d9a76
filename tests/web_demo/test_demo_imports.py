"""The server only serves exports: it never imports TensorFlow, a runtime or the exporters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.web_demo.fake_exports import write_fake_export

HEAVY = ("tensorflow", "tensorflowjs", "keras", "tflite", "tflite_runtime", "ai_edge_litert",
         "exporters")

# Runs in a fresh interpreter: nothing this test process imported can hide an import.
SERVE_AND_LIST_MODULES = """
import json, sys
from web_demo import create_app

exports, db = sys.argv[1], sys.argv[2]
app = create_app({"TESTING": True, "EXPORTS_DIR": exports, "DATABASE_URL": db})
client = app.test_client()
statuses = {url: client.get(url).status_code for url in (
    "/", "/api/models", "/models/fast-tfjs-fp32/model.json",
    "/models/fast-tfjs-fp32/group1-shard1of1.bin", "/api/models/fast-tfjs-fp32/reference",
    "/api/probes/0.png", "/api/v1/protocol", "/bench/")}
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))
"""


def test_serving_imports_no_tensorflow_runtime_or_exporter(tmp_path: Path) -> None:
    write_fake_export(tmp_path / "exports" / "fast-tfjs-fp32")
    result = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LIST_MODULES, str(tmp_path / "exports"),
         f"sqlite:///{tmp_path / 'bench.sqlite'}"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2], check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out["statuses"].values()) == {200}, out["statuses"]  # it really served
    heavy = [m for m in out["modules"] if m.split(".")[0] in HEAVY]
    assert heavy == [], heavy
