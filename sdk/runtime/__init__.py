"""Run exported detectors with one small API: ``sdk.load(path).detect(image)``.

Needs only numpy, pillow and LiteRT (``ai-edge-litert``); ONNX Runtime (``.onnx`` exports)
and TensorFlow (SavedModels) are used when installed. The browser twin of this package is
``sdk/js/detector.js``.
"""

from __future__ import annotations

from sdk.runtime.contract import RuntimeLoadError
from sdk.runtime.detection import Detection, Detections, StageTimings
from sdk.runtime.detector import Detector, load

__all__ = ["Detection", "Detections", "Detector", "RuntimeLoadError", "StageTimings", "load"]
