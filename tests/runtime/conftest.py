"""Runtime fixtures: one confident tiny Fast detector exported as SavedModel, TFLite, TF.js.

Built once per session (~30 s, needs TensorFlow and tensorflowjs); see ``models.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sdk.spec import DetectorSpec


@dataclass(frozen=True)
class Exports:
    """Folders of the same model in three formats, each with its ``detector.json``."""

    savedmodel: Path
    tflite: Path
    tfjs: Path

    @property
    def spec(self) -> DetectorSpec:
        return DetectorSpec.load(self.tflite)


@pytest.fixture(scope="session")
def probe_images(tiny_data: Path) -> list[Path]:
    """The tiny dataset's test images (shapes on real photos, ~500x400 JPEG)."""
    return sorted((tiny_data / "test").glob("*.jpg"))


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory, tiny_fast: Path) -> Exports:
    """The confident tiny Fast detector exported three ways (fp32)."""
    from tests.runtime import models

    model, cfg = models.confident_fast(tiny_fast)
    root = tmp_path_factory.mktemp("exports")
    saved = models.export_savedmodel(model, cfg, root / "savedmodel")
    return Exports(saved, models.export_tflite(saved, root / "tflite"),
                   models.export_tfjs(saved, root / "tfjs"))


@pytest.fixture(scope="session")
def engine_exports(exports: Exports, tiny_fast: Path, tiny_data: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every folder a browser engine runs: TF.js, static TFLite and ONNX (fp32, int8)."""
    from tests.runtime.browser_models import build_browser_exports

    built = build_browser_exports(tmp_path_factory.getbasetemp() / "browser-exports",
                                  tiny_fast, tiny_data / "train")
    return {"tfjs": exports.tfjs, **built}


@pytest.fixture(scope="session")
def busy_image(exports: Exports, probe_images: list[Path]) -> Path:
    """The probe image on which the test model detects the most objects."""
    import sdk

    detector = sdk.load(exports.tflite)
    return max(probe_images, key=lambda path: len(detector.detect(path)))
