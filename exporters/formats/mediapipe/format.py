"""TFLite for MediaPipe Tasks and the TFLite Task Library: post-NMS outputs + TFLite Metadata."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from exporters.errors import ExportError
from exporters.formats.base import (
    EXACT,
    LOW_BIT,
    BackendRunner,
    ExportFormat,
    conversion_error,
)
from exporters.formats.mediapipe import detection_op, metadata
from exporters.formats.static_graph import calibration_pixels, raw_pixel_spec
from exporters.formats.tflite import int8
from exporters.formats.tflite.format import TFLiteFormat
from sdk.spec import DetectorSpec, OutputSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.source import ExportSource

FLOAT_HEAD = "int8_float_head"

USAGE = """\
## MediaPipe Tasks / TFLite Task Library

`model.tflite` ends in `TFLite_Detection_PostProcess` (NMS with detector.json's thresholds
and `max_detections`) and carries the object-detector TFLite Metadata (normalization, label
file, output names): the ready-made object detectors run it as it is.

```python
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

options = vision.ObjectDetectorOptions(base_options=BaseOptions(model_asset_path="model.tflite"))
with vision.ObjectDetector.create_from_options(options) as detector:
    result = detector.detect(mp.Image.create_from_file("square.jpg"))
```

Android: `ObjectDetector` of `com.google.mediapipe:tasks-vision` (or of
`org.tensorflow:tensorflow-lite-task-vision`) with this file. MediaPipe stretches an image to
the input size where the SDK letterboxes (pad {pad}): give it square images, or pad them to
a square yourself, to get the SDK's detections.
"""


class MediaPipeFormat(ExportFormat):
    """A ``model.tflite`` MediaPipe Tasks' and the Task Library's ``ObjectDetector`` run as-is.

    The canonical model is followed by ``TFLite_Detection_PostProcess``
    (:mod:`.detection_op`), so the outputs are location / category / score / number of
    detections (``outputs.kind`` ``detections`` in detector.json; ``sdk.load`` runs it with
    LiteRT). TFLite Metadata in the standard object-detector schema is written by
    tflite-support in its own venv (:mod:`.metadata`). ``int8`` is full-integer (calibrated
    as the ``tflite`` format does) with the box-encoding tail and the op in float; when it
    misses the parity budget it is retried with the box/score head in float too.
    """

    name = "mediapipe"
    quantizations = ("fp32", "int8")
    budget_class: ClassVar[dict[str, str]] = {"fp32": EXACT, "int8": LOW_BIT,
                                              FLOAT_HEAD: LOW_BIT}
    calibrated = frozenset({"int8", FLOAT_HEAD})
    fallbacks: ClassVar[dict[str, str]] = {"int8": FLOAT_HEAD}
    filename = "model.tflite"
    usage = USAGE

    @staticmethod
    def pixel_input(spec: DetectorSpec) -> bool:
        """Per-channel mean/std (e.g. ImageNet's): MediaPipe refuses them in the metadata
        ("Per-channel image normalization is not available"), so the model takes uint8
        pixels and normalizes in the graph, the form of most mobile detectors."""
        return len(set(spec.input.mean)) > 1 or len(set(spec.input.std)) > 1

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        metadata.tflite_support_python()  # fail before converting, not after
        options = detection_op.OpOptions.from_spec(source.spec)
        try:
            if quantization in self.calibrated:
                calibrated = self._calibration(source, calib, options)
                data = int8.quantize(calibrated, int8_input=False,
                                     float_head=quantization == FLOAT_HEAD,
                                     keep_float=detection_op.tail_tensor_names(calibrated))
            else:
                data = self._converter(source, options).convert()
        except ExportError:
            raise
        except Exception as exc:  # the converter raises many types; all mean "cannot convert"
            raise conversion_error(self.name, exc) from exc
        detection_op.check_op(data, options)
        artifact = out_dir / self.filename
        artifact.write_bytes(data)
        return artifact

    def _converter(self, source: ExportSource, options: detection_op.OpOptions) -> Any:
        import tensorflow as tf

        function, keep = detection_op.detection_function(
            source.saved_model, source.spec, options, uint8_input=self.pixel_input(source.spec))
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [function.get_concrete_function()], keep)
        converter.allow_custom_ops = True  # TFLite_Detection_PostProcess is a custom op
        return converter

    def _calibration(self, source: ExportSource, calib: CalibrationSet | None,
                     options: detection_op.OpOptions) -> bytes:
        if calib is None:
            raise self.calibration_missing("int8")
        pixels = self.pixel_input(source.spec)
        inputs = calibration_pixels(calib, source.spec.input) if pixels else calib.inputs
        # The slow step, shared by int8 and its float-head fallback.
        return source.memo(f"mediapipe-calibrated:{calib.sha256}:{options}:{pixels}", lambda: (
            int8.calibrate(self._converter(source, options), inputs)))

    def artifact_spec(self, artifact: Path, spec: DetectorSpec) -> DetectorSpec:
        names = detection_op.output_names(artifact.read_bytes())
        outputs = OutputSpec(kind="detections", locations=names["locations"],
                             classes=names["classes"], scores=names["scores"],
                             num_detections=names["num_detections"], label_offset=0)
        return replace(raw_pixel_spec(spec) if self.pixel_input(spec) else spec,
                       outputs=outputs)

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        metadata.embed(artifact, spec)

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        return TFLiteFormat().read_metadata(artifact)

    def validate(self, artifact: Path, spec: DetectorSpec) -> dict[str, Any]:
        checks = super().validate(artifact, spec)
        found = detection_op.check_op(artifact.read_bytes(),
                                      detection_op.OpOptions.from_spec(spec))
        packed = metadata.packed_files(artifact)
        wanted = [metadata.LABELS_FILE, metadata.tflite_metadata.METADATA_NAME]
        if not metadata.has_tflite_metadata(artifact) or sorted(wanted) != packed:
            raise ExportError(f"{artifact}: TFLite Metadata missing, or the associated files "
                              f"are {packed} instead of {sorted(wanted)}")
        return {**checks, "op": detection_op.OP_NAME, "op_options": found,
                "associated_files": packed}

    def runner(self, artifact: Path, spec: DetectorSpec) -> BackendRunner:
        return TFLiteFormat().runner(artifact, spec)

    def converter_versions(self) -> dict[str, str]:
        return {**super().converter_versions(), "tflite-support": _tflite_support_version()}


def _tflite_support_version() -> str:
    """tflite-support's version in its venv (``?`` when it cannot be asked)."""
    try:
        python = metadata.tflite_support_python()
        done = subprocess.run(
            [str(python), "-c", "from importlib.metadata import version; "
                                "print(version('tflite-support'))"],
            capture_output=True, text=True, timeout=60, check=True)
    except (ExportError, OSError, subprocess.SubprocessError):
        return "?"
    return done.stdout.strip() or "?"
