"""Real models in the output layouts of detectors from elsewhere, run by ``sdk.load`` in every
Python engine (the models: :mod:`tests.runtime.foreign_models`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sdk
from sdk.runtime.contract import RuntimeLoadError
from tests.runtime.foreign_models import (
    BLACK,
    DETECTIONS_EXPECTED,
    DETECTIONS_OUTPUTS,
    WHITE,
    YOLO_EXPECTED,
    YOLO_OUTPUTS,
    detections_savedmodel,
    onnx,
    tflite,
    write_spec,
    yolo_savedmodel,
)

pytestmark = pytest.mark.slow


def _detections(folder: Path, image: np.ndarray) -> list[tuple[str, float, list[float]]]:
    """(label, score, box) of ``sdk.load(folder).detect(image)``, rounded."""
    return [(d.label, round(d.score, 4), [round(v, 2) for v in d.box])
            for d in sdk.load(folder).detect(image)]


@pytest.mark.parametrize("layout", ["features_first", "anchors_first"])
def test_yolo_model_runs_in_every_python_engine(tmp_path, layout):
    saved, function = yolo_savedmodel(tmp_path / "savedmodel", layout)
    folders = [saved, tflite(saved, tmp_path / "tflite"), onnx(function, tmp_path / "onnx")]
    write_spec(folders, {**YOLO_OUTPUTS, "layout": layout})
    for folder in folders:
        assert _detections(folder, WHITE) == YOLO_EXPECTED, folder.name
        assert _detections(folder, BLACK) == [], folder.name


def test_detections_model_runs_in_savedmodel_and_tflite(tmp_path):
    saved, _ = detections_savedmodel(tmp_path / "savedmodel")
    folders = [saved, tflite(saved, tmp_path / "tflite")]
    write_spec(folders, DETECTIONS_OUTPUTS)
    for folder in folders:
        assert _detections(folder, WHITE) == DETECTIONS_EXPECTED, folder.name
        assert _detections(folder, BLACK) == [], folder.name


def test_detector_json_names_a_missing_output(tmp_path):
    saved, _ = detections_savedmodel(tmp_path / "savedmodel")
    folder = tflite(saved, tmp_path / "tflite")
    write_spec([folder], {**DETECTIONS_OUTPUTS, "locations": "boxes"})
    with pytest.raises(RuntimeLoadError,
                       match=r"output\(s\) \['boxes'\] named in detector.json not found"):
        sdk.load(folder)
