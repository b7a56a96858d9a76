"""Web demo fixtures (flaskr style: app, client, runner) over fixture or real TF.js exports.

Server tests use export folders written by :mod:`fake_exports` (no TensorFlow). Browser
tests use ``demo_model``: the confident tiny Fast detector of the runtime tests, converted
to TF.js once per session, with its reference detections beside it as ``sdk export`` does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from device_bench.db import shutdown
from sdk.pipeline import Predict, as_dicts, detect_image
from sdk.spec import DetectorSpec, InputSpec, NmsSpec
from tests.web_demo.fake_exports import write_fake_export, write_reference
from web_demo import create_app

FAKE_VARIANT = "fast-tfjs-fp32"


@pytest.fixture
def exports_dir(tmp_path: Path) -> Path:
    """One complete variant (fast fp32) with its reference.json; the rest is missing."""
    root = tmp_path / "exports"
    write_fake_export(root / FAKE_VARIANT)
    return root


@pytest.fixture
def app_config(tmp_path: Path, exports_dir: Path) -> dict[str, Any]:
    """Test configuration; tests tweak it before ``app`` is created."""
    return {
        "TESTING": True,
        "EXPORTS_DIR": str(exports_dir),
        "MODELS": ("fast", "accurate"),
        "QUANTIZATIONS": ("fp32", "fp16"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite'}",
        "RATE_LIMIT_PER_MINUTE": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    shutdown(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def _fp16_copy(saved_model: Path, fp32: Path, out: Path) -> Path:
    """The same SavedModel converted with fp16 weights (a real second quantization)."""
    from tensorflowjs.converters import convert_tf_saved_model

    convert_tf_saved_model(str(saved_model), str(out), quantization_dtype_map={"float16": True})
    shutil.copy(fp32 / "detector.json", out / "detector.json")
    return out


@dataclass(frozen=True)
class DemoModel:
    """Real TF.js exports of one detector, and the same detector in Python."""

    exports: Path
    predict: Predict
    input_spec: InputSpec
    nms: NmsSpec
    labels: tuple[str, ...]

    def detect(self, rgb: np.ndarray, min_score: float) -> list[dict[str, Any]]:
        """Python reference detections of one RGB image at ``min_score``."""
        nms = replace(self.nms, score_threshold=min_score)
        return as_dicts(detect_image(self.predict, rgb, self.input_spec, nms), self.labels)


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory: pytest.TempPathFactory, tiny_fast: Path) -> DemoModel:
    """The confident tiny Fast detector of the runtime tests as TF.js variants (~1 min).

    ``fast-tfjs-fp32`` and ``fast-tfjs-fp16`` are two conversions of it; ``accurate-tfjs-fp32``
    is a copy under the other model name, so the model selector has something to switch to.
    Every folder gets the fp32 reference.json the benchmark's accuracy check needs.
    """
    from tests.runtime import models

    model, cfg = models.confident_fast(tiny_fast)
    root = tmp_path_factory.mktemp("demo-exports")
    saved = models.export_savedmodel(model, cfg, root / "savedmodel")
    exports = root / "exports"
    fp32 = models.export_tfjs(saved, exports / "fast-tfjs-fp32")  # also readies tensorflowjs
    _fp16_copy(saved, fp32, exports / "fast-tfjs-fp16")
    shutil.copytree(fp32, exports / "accurate-tfjs-fp32")

    def predict(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = model(inputs, training=False)
        return np.asarray(out["boxes"]), np.asarray(out["scores"])

    spec = DetectorSpec.load(fp32)
    for name in ("fast-tfjs-fp32", "fast-tfjs-fp16", "accurate-tfjs-fp32"):
        write_reference(exports / name, predict, spec, source="keras fp32 tiny fast")
    return DemoModel(exports, predict, cfg.input_spec, cfg.nms, cfg.labels)


@pytest.fixture(scope="session")
def make_demo_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    """The Makefile demo recipe's ``fast`` export, fp32 only, run once per session (about
    two minutes on two cores, its mAP included): (command, exports folder)."""
    from tests.web_demo.make_demo import fast_export_command, run

    command = fast_export_command(tmp_path_factory.mktemp("make-demo") / "exports")
    result = run(command)
    assert result.returncode == 0, result.stderr[-4000:]
    return command, Path(command[command.index("--out") + 1])
