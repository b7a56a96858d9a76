"""TFLite via the TensorFlow converter, run by LiteRT: fp32, fp16, dynamic-range and full int8."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from exporters.errors import ExportError
from exporters.formats.base import (
    EXACT,
    HALF,
    LOW_BIT,
    BackendRunner,
    ExportFormat,
    FormatOption,
    conversion_error,
    package_version,
)
from exporters.formats.static_graph import (
    UINT8_INPUT,
    calibration_pixels,
    raw_pixel_spec,
    serving_function,
)
from exporters.formats.tflite import int8, metadata
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.source import ExportSource

FLOAT_HEAD = "int8_float_head"

USAGE = """\
## Android / embedded (LiteRT)

Run the `serving_default` signature: `{input}` -> `boxes`, `scores` (read outputs by name).
Preprocess exactly as `detector.json` says (it is also embedded in `model.tflite` as the
FlatBuffer metadata entry `detector.json`); then threshold + NMS as `sdk/postprocess.py`.

```kotlin
val interpreter = Interpreter(FileUtil.loadMappedFile(context, "model.tflite"))
val runner = interpreter.getSignatureRunner("serving_default")
```
"""


class TFLiteFormat(ExportFormat):
    """A ``model.tflite`` with ``detector.json`` embedded as FlatBuffer metadata.

    The input is static, ``[1, H, W, 3]`` (:mod:`exporters.formats.static_graph`): LiteRT.js
    refuses a dynamic batch, GPU delegates and NPUs want fixed shapes, and the dynamic-batch
    shape arithmetic (SHAPE, STRIDED_SLICE, PACK) leaves the graph.
    ``int8`` is full-integer (calibrated); when it misses the parity budget the export is
    retried as ``int8_float_head`` (backbone int8, box/score head float, see
    :mod:`exporters.formats.tflite.int8`). Outputs are always float32: they are decoded boxes and
    probabilities, and dequantizing 2 small tensors costs nothing next to the network.
    """

    name = "tflite"
    quantizations = ("fp32", "fp16", "int8_dynamic", "int8")
    budget_class: ClassVar[dict[str, str]] = {"fp32": EXACT, "fp16": HALF,
                                              "int8_dynamic": LOW_BIT, "int8": LOW_BIT,
                                              FLOAT_HEAD: LOW_BIT}
    calibrated = frozenset({"int8", FLOAT_HEAD})
    fallbacks: ClassVar[dict[str, str]] = {"int8": FLOAT_HEAD}
    options = (FormatOption(
        "int8_io", bool, False,
        "int8 input tensor for int8 (scale/zero point go into detector.json).",
        quantizations=("int8",), requires="a full-integer model"), UINT8_INPUT)
    filename = "model.tflite"
    usage = USAGE

    def check_args(self, quantization: str, calib: object | None) -> None:
        super().check_args(quantization, calib)
        if self.opts["int8_io"] and self.opts["uint8_input"]:
            raise ExportError("tflite: --int8-io and --uint8-input both set the input type; "
                              "pass one of them")

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        try:
            if quantization in self.calibrated:
                data = int8.quantize(self._calibration(source, calib), self.opts["int8_io"],
                                     float_head=quantization == FLOAT_HEAD)
            else:
                data = _convert_float(self._converter(source), quantization)
        except ExportError:
            raise
        except Exception as exc:  # the converter raises many types; all mean "cannot convert"
            raise conversion_error(self.name, exc) from exc
        artifact = out_dir / self.filename
        artifact.write_bytes(data)
        return artifact

    def _calibration(self, source: ExportSource, calib: CalibrationSet | None) -> bytes:
        if calib is None:
            raise self.calibration_missing("int8")
        uint8_input = self.opts["uint8_input"]
        inputs = calibration_pixels(calib, source.spec.input) if uint8_input else calib.inputs
        # Calibration is the slow step: done once per source, calibration set and input
        # type, shared by int8, its float-head fallback and the matrix.
        key = f"tflite-calibrated:{calib.sha256}" + (":uint8-input" if uint8_input else "")
        return source.memo(key, lambda: int8.calibrate(self._converter(source), inputs))

    def _converter(self, source: ExportSource) -> Any:  # a tf.lite.TFLiteConverter
        import tensorflow as tf

        function, keep = serving_function(source.saved_model, source.spec.input,
                                          self.opts["uint8_input"])
        return tf.lite.TFLiteConverter.from_concrete_functions(
            [function.get_concrete_function()], keep)

    def artifact_spec(self, artifact: Path, spec: DetectorSpec) -> DetectorSpec:
        if self.opts["uint8_input"]:
            return raw_pixel_spec(spec)
        dtype, scale, zero = metadata.input_quantization(artifact)
        if dtype == "float32":
            return spec
        return spec.with_input(dtype=dtype, quant_scale=scale, quant_zero_point=zero)

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        metadata.embed_json(artifact, spec.to_json())

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        data = metadata.read_json(artifact)
        if data is None or data != metadata.read_associated_json(artifact):
            raise ExportError(f"{artifact}: {metadata.METADATA_NAME} missing from the "
                              f"metadata entry or the associated files, or they differ")
        return DetectorSpec.from_dict(data, f"{artifact}:{metadata.METADATA_NAME}")

    def runner(self, artifact: Path, spec: DetectorSpec) -> BackendRunner:
        from sdk.runtime.tflite import TFLiteBackend

        backend = TFLiteBackend(artifact, spec, num_threads=os.cpu_count() or 1)
        # The backend's own count: post-NMS (detections) models run on one thread.
        return BackendRunner(backend, f"{backend.library} {package_version(backend.library)} "
                                      f"(XNNPACK, {backend.num_threads} threads)")


def _convert_float(converter: Any, quantization: str) -> bytes:
    import tensorflow as tf

    if quantization in ("fp16", "int8_dynamic"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()

