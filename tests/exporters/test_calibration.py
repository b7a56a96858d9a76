"""Calibration images: folder or dataset, through sdk.preprocess, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from exporters.calibration import MIN_RECOMMENDED, load_calibration
from exporters.errors import CalibrationError
from sdk.data import load_dataset, load_image
from sdk.preprocess import preprocess
from sdk.spec import InputSpec

SPEC = InputSpec(size=(64, 64))


def test_dataset_root_uses_its_train_split(tiny_data: Path):
    calib = load_calibration(tiny_data, SPEC)
    train = load_dataset(tiny_data, "train").samples
    assert calib.inputs.shape == (len(train), 64, 64, 3)
    first = preprocess(load_image(train[0].image_path), SPEC)[0][0]
    np.testing.assert_array_equal(calib.inputs[0], first)  # the one preprocessing
    assert f"only {len(train)} image(s)" in calib.warning and str(MIN_RECOMMENDED) in calib.warning


def test_plain_folder_is_searched_recursively_and_hash_is_stable(tiny_data: Path, tmp_path):
    for i, image in enumerate(sorted((tiny_data / "val").glob("*.jpg"))):
        (tmp_path / f"sub{i % 2}").mkdir(exist_ok=True)
        shutil.copy(image, tmp_path / f"sub{i % 2}" / image.name)
    first, second = load_calibration(tmp_path, SPEC), load_calibration(tmp_path, SPEC)
    assert len(first.inputs) == 4 and first.sha256 == second.sha256
    assert len(load_calibration(tmp_path, SPEC, limit=2).inputs) == 2


def test_calibration_ignores_an_integer_input_dtype(tiny_data: Path):
    int8 = InputSpec(size=(64, 64), dtype="int8", quant_scale=0.0078, quant_zero_point=-1)
    assert load_calibration(tiny_data, int8).inputs.dtype == np.float32


@pytest.mark.parametrize("make", ["missing", "empty", "corrupt"])
def test_bad_calibration_folders_raise(tmp_path: Path, make: str):
    root = tmp_path / "calib"
    if make != "missing":
        root.mkdir()
    if make == "corrupt":
        (root / "broken.jpg").write_bytes(b"not a jpeg")
    match = {"missing": "calibration folder not found", "empty": "no images found",
             "corrupt": "calibration image unreadable"}[make]
    with pytest.raises(CalibrationError, match=match):
        load_calibration(root, SPEC)


def test_photos_are_deterministic_crops_of_real_photos(tmp_path, monkeypatch):
    from exporters.calibration import PHOTOS, is_photos, photo_calibration

    spec = InputSpec(size=(48, 64), mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
    first, again = photo_calibration(spec, count=12), photo_calibration(spec, count=12)
    assert first.inputs.shape == (12, 48, 64, 3) and first.sha256 == again.sha256
    assert first.warning is None and "scikit-image" in first.source
    # Real photos, normalized as the spec says: varied pixels, not a constant or noise range.
    assert 0.5 < float(first.inputs.std()) < 1.5 and len({x.tobytes() for x in first.inputs}) == 12
    monkeypatch.chdir(tmp_path)
    assert is_photos(PHOTOS) and is_photos(Path(PHOTOS))
    (tmp_path / PHOTOS).mkdir()  # a folder of that name is the user's images
    assert not is_photos(PHOTOS)
