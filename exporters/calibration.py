"""Calibration images for full-integer quantization, through the one preprocessing.

``--calib`` may be a folder of images (searched recursively) or a dataset root, whose
train split is used, or ``photos``: crops of the real photos bundled with scikit-image
(:func:`photo_calibration`), for a model of natural images imported without its training
data. A bundled model needs none of these: its train images are regenerated from the
synthetic recipe (:func:`bundled_calibration`). Images go through
:func:`sdk.preprocess.preprocess` exactly as at inference time: calibrating on differently
normalized pixels would give wrong ranges.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exporters.errors import CalibrationError
from sdk.data import DataError, detect_format, load_dataset, load_image
from sdk.data.bundled import SynthRecipe, regenerate_subset
from sdk.data.images import is_image
from sdk.preprocess import preprocess
from sdk.spec import InputSpec

MAX_IMAGES = 200  # activation ranges stop changing long before this; conversion time grows
CALIB_SPLIT = "train"  # never the split the artifact's mAP is measured on
MIN_RECOMMENDED = 50  # fewer images give noisy ranges (TFLite docs suggest ~100-500)
PHOTOS = "photos"  # --calib keyword (an existing folder of that name wins)
PHOTO_CROPS = 100


@dataclass(frozen=True)
class CalibrationSet:
    """Preprocessed calibration inputs and where they came from.

    Attributes:
        inputs: float32 ``[K, H, W, 3]`` model inputs.
        sha256: Digest of the inputs (recorded in provenance as the calibration hash).
        source: The folder the images came from.
        warning: Set when fewer than :data:`MIN_RECOMMENDED` images were found.
    """

    inputs: np.ndarray
    sha256: str
    source: str
    warning: str | None = None

    def batches(self) -> Iterator[list[np.ndarray]]:
        """Yield ``[1, H, W, 3]`` inputs: the representative dataset of the converters."""
        for x in self.inputs:
            yield [x[None]]


def _image_paths(root: Path) -> list[Path]:
    try:
        detect_format(root)
    except DataError:
        return sorted(p for p in root.rglob("*") if p.is_file() and is_image(p))
    try:
        return [s.image_path for s in load_dataset(root, "train").samples]
    except DataError as exc:
        raise CalibrationError(f"{root}: dataset has no usable train split for "
                               f"calibration ({exc})") from exc


def _spread(paths: list[Path], limit: int) -> list[Path]:
    """At most ``limit`` paths, evenly spread (deterministic, covers the whole folder)."""
    if len(paths) <= limit:
        return paths
    return [paths[i] for i in np.linspace(0, len(paths) - 1, limit).round().astype(int)]


def is_photos(calib: object) -> bool:
    """True when ``--calib`` names the bundled photos rather than a folder."""
    return isinstance(calib, str | Path) and str(calib) == PHOTOS and not Path(calib).exists()


def photo_calibration(spec: InputSpec, count: int = PHOTO_CROPS, seed: int = 0,
                      ) -> CalibrationSet:
    """``count`` deterministic crops (35-100 % of a side, random flips) of scikit-image's
    bundled photos (:mod:`sdk.data.backgrounds`: people, a cat, a cup, a motorcycle, textures,
    micrographs) at the model's input aspect, preprocessed like inference inputs."""
    from sdk.data.backgrounds import photo_crop

    rng = np.random.default_rng(seed)
    height, width = spec.size
    float_spec = replace(spec, dtype="float32", quant_scale=None, quant_zero_point=None)
    inputs = np.concatenate([preprocess(np.asarray(photo_crop(rng, width, height)),
                                        float_spec)[0] for _ in range(count)])
    return CalibrationSet(inputs, hashlib.sha256(inputs.tobytes()).hexdigest(),
                          f"{count} crops of scikit-image's bundled photos (seed {seed})")


def require_folder(root: str | Path) -> Path:
    """``root`` as a Path; raises CalibrationError when it is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise CalibrationError(f"{root}: calibration folder not found (--calib takes a folder "
                               f"of images or a dataset root)")
    return root


def load_calibration(root: str | Path, spec: InputSpec, limit: int = MAX_IMAGES,
                     ) -> CalibrationSet:
    """Read and preprocess calibration images from ``root`` (folder or dataset).

    Raises:
        CalibrationError: the folder is missing, holds no image, or an image is unreadable.
    """
    root = require_folder(root)
    paths = _spread(_image_paths(root), limit)
    if not paths:
        raise CalibrationError(f"{root}: no images found for calibration (looked for "
                               f".jpg/.png/... recursively)")
    # Calibration sees the float model input, whatever the artifact's input dtype will be.
    float_spec = replace(spec, dtype="float32", quant_scale=None, quant_zero_point=None)
    try:
        inputs = np.concatenate([preprocess(load_image(p), float_spec)[0] for p in paths])
    except DataError as exc:
        raise CalibrationError(f"calibration image unreadable: {exc}") from exc
    warning = None
    if len(paths) < MIN_RECOMMENDED:
        warning = (f"calibrating on only {len(paths)} image(s) from {root}; "
                   f"{MIN_RECOMMENDED}+ give stabler int8 ranges")
    return CalibrationSet(inputs, hashlib.sha256(inputs.tobytes()).hexdigest(), str(root),
                          warning)


def bundled_calibration(recipe: SynthRecipe, spec: InputSpec, limit: int = MAX_IMAGES,
                        ) -> CalibrationSet:
    """The first ``limit`` train images of a bundled model's data, regenerated and cached."""
    root = regenerate_subset(recipe, CALIB_SPLIT, limit)
    return replace(load_calibration(root, spec, limit), source=recipe.describe(CALIB_SPLIT,
                                                                               limit))
