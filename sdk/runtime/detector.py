"""``load(path).detect(image)``: the one Python runtime API, driven only by ``detector.json``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from sdk import pipeline  # the module, not its names: sdk.pipeline imports this package
from sdk.preprocess import Letterbox, preprocess_into
from sdk.runtime.backends import Backend, open_backend
from sdk.runtime.detection import Detection, Detections, StageTimings
from sdk.runtime.images import to_rgb
from sdk.runtime.locate import SpecSource, locate
from sdk.spec import DetectorSpec


def _ms(start: float, end: float) -> float:
    return (end - start) * 1000.0


class Detector:
    """An exported detector ready to run.

    Every call records its per-stage times in :attr:`last_timings` (ms), so benchmarks
    can read preprocess, inference, readback and postprocess separately.

    Attributes:
        spec: The ``detector.json`` the model was checked against.
        backend: The inference engine (``backend.name`` says which; see
            :mod:`sdk.runtime.registry`).
        source: The model file or folder.
        last_timings: Stage times of the last ``detect``/``detect_arrays`` call.
    """

    def __init__(self, backend: Backend, spec: DetectorSpec, source: Path):
        self.backend, self.spec, self.source = backend, spec, source
        self.last_timings: StageTimings | None = None
        self._in_place = backend.input_tensor()
        # Engines without an exposed input buffer get one reused array: no per-frame allocation.
        self._staged = (None if self._in_place is not None else
                        np.empty((1, *spec.input.size, 3), np.dtype(spec.input.dtype)))

    def _write_input(self, rgb: np.ndarray) -> Letterbox:
        """Preprocess ``rgb`` straight into the engine's input (or the reused array)."""
        if self._in_place is None:
            return preprocess_into(rgb, self.spec.input, self._staged)
        # The array from the accessor dies when this call returns: LiteRT invokes only when
        # no array into its buffers is alive.
        return preprocess_into(rgb, self.spec.input, self._in_place())

    @property
    def labels(self) -> tuple[str, ...]:
        return self.spec.labels

    def __repr__(self) -> str:
        h, w = self.spec.input.size
        return (f"Detector({self.source}, backend={self.backend.name}, input={h}x{w} "
                f"{self.spec.input.dtype}, labels={len(self.labels)})")

    def detect(self, image: Any, score_threshold: float | None = None,
               iou_threshold: float | None = None,
               max_detections: int | None = None) -> list[Detection]:
        """Detect objects in ``image`` (path, PIL image or HxWx3 uint8 RGB array).

        Thresholds default to the spec's ``nms`` section. Returns detections best first,
        boxes in pixels of the original image.
        """
        found = self.detect_arrays(image, score_threshold, iou_threshold, max_detections)
        return found.to_list(self.labels)

    def detect_arrays(self, image: Any, score_threshold: float | None = None,
                      iou_threshold: float | None = None,
                      max_detections: int | None = None) -> Detections:
        """Like :meth:`detect` but returns arrays (no per-detection Python objects)."""
        t0 = time.perf_counter()
        geometry = self._write_input(to_rgb(image))
        t1 = time.perf_counter()
        self.backend.invoke(self._staged)
        t2 = time.perf_counter()
        outputs = self.backend.read()
        t3 = time.perf_counter()
        found = pipeline.outputs_to_pixels(outputs, self.spec, geometry, score_threshold,
                                           iou_threshold, max_detections)
        t4 = time.perf_counter()
        self.last_timings = StageTimings(_ms(t0, t1), _ms(t1, t2), _ms(t2, t3), _ms(t3, t4))
        return found


def load(path: str | Path, num_threads: int | None = None,
         spec: SpecSource = None) -> Detector:
    """Load an exported detector.

    Args:
        path: An export folder (``detector.json`` + a model), a model file or folder that a
            registered engine opens (:mod:`sdk.runtime.registry`: a ``.tflite`` or ``.onnx``
            file with its spec beside it or embedded, a SavedModel folder with TensorFlow
            installed), or a ``detector.json`` path.
        num_threads: CPU threads of the engine (default: all cores).
        spec: A :class:`DetectorSpec` or ``detector.json`` path to use instead of the one
            found next to the model (bring-your-own models).

    Raises:
        RuntimeLoadError: missing/corrupt model, tensors that do not match the spec, or a
            format Python does not run (TF.js, CoreML).
        SpecError: missing or invalid ``detector.json`` (e.g. unsupported schema_version).
    """
    model, detector_spec = locate(path, spec)
    return Detector(open_backend(model, detector_spec, num_threads), detector_spec, model)
