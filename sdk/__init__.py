"""On-device detection SDK: train, export, run and benchmark Fast/Accurate detectors.

``import sdk`` stays light (numpy only): TensorFlow, LiteRT, coremltools and Flask are
imported inside the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from sdk.runtime.detector import Detector

__all__ = ["__version__", "load"]


def load(path: Any, **kwargs: Any) -> Detector:
    """Load an exported detector (folder, ``.tflite``, ``model.json`` or SavedModel).

    See :func:`sdk.runtime.detector.load` for the options.
    """
    from sdk.runtime.detector import load as _load

    return _load(path, **kwargs)
