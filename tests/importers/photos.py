"""Real photos that ship with scikit-image and the COCO class each one shows.

Shared by the Python and browser checks of the imported NanoDet. The thresholds are the
lowest score the model reaches for the class, measured with the imported SavedModel
(astronaut 0.73, camera 0.88, chelsea 0.58, motorcycle 0.78, coffee cup 0.27: below
detector.json's demo threshold 0.35, so checked at 0.2).
"""

from __future__ import annotations

import numpy as np

EXPECTED = {"astronaut": ("person", 0.6), "camera": ("person", 0.75),
            "chelsea": ("cat", 0.45), "motorcycle": ("motorcycle", 0.65),
            "coffee": ("cup", 0.2)}
LOW_THRESHOLD = 0.2  # low enough for the coffee cup


def photo(name: str) -> np.ndarray:
    """The RGB uint8 pixels of scikit-image photo ``name`` (camera is grayscale: 3 copies)."""
    from skimage import data

    image = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])
