"""ONNX via tf2onnx, run by ONNX Runtime: fp32, fp16 and calibrated int8 (QDQ)."""

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
    conversion_error,
    package_version,
)
from exporters.formats.onnx import convert, metadata
from exporters.formats.static_graph import UINT8_INPUT, calibration_pixels, raw_pixel_spec
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.source import ExportSource

FLOAT_HEAD = "int8_float_head"

USAGE = """\
## ONNX Runtime (Python, C++, C#, Java, onnxruntime-web)

One input `{input}` `[1, H, W, 3]` NHWC (dtype as `detector.json` says) -> `boxes`,
`scores` (read outputs by name). `detector.json` is also embedded in `model.onnx` as the
`metadata_props` entry `detector.json`. Preprocess exactly as it says; then threshold + NMS
as `sdk/postprocess.py`.

```js
import * as ort from "onnxruntime-web/wasm";
const session = await ort.InferenceSession.create("{url}/model.onnx");
```
"""


class OnnxFormat(ExportFormat):
    """A ``model.onnx`` (static ``[1, H, W, 3]`` input) with ``detector.json`` in its
    ``metadata_props``.

    ``fp16`` stores weights and computes in float16 except the box/score head;
    ``int8`` is ONNX Runtime's static QDQ quantization on the calibration images and falls
    back to ``int8_float_head`` (head in float) when it misses the parity budget, as TFLite
    does. Outputs are float32 in every variant.
    """

    name = "onnx"
    quantizations = ("fp32", "fp16", "int8")
    budget_class: ClassVar[dict[str, str]] = {"fp32": EXACT, "fp16": HALF, "int8": LOW_BIT,
                                              FLOAT_HEAD: LOW_BIT}
    calibrated = frozenset({"int8", FLOAT_HEAD})
    fallbacks: ClassVar[dict[str, str]] = {"int8": FLOAT_HEAD}
    options = (UINT8_INPUT,)
    filename = "model.onnx"
    usage = USAGE
    converter_packages = ("tensorflow", "tf2onnx", "onnx", "onnxruntime")

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        artifact = out_dir / self.filename
        try:
            model = self._float_model(source)
            if quantization in self.calibrated:
                self._quantize(source, model, calib, artifact, quantization == FLOAT_HEAD)
            else:
                import onnx

                onnx.save(convert.to_fp16(model) if quantization == "fp16" else model,
                          str(artifact))
        except ExportError:
            raise
        except Exception as exc:  # the converters raise many types; all mean "cannot convert"
            raise conversion_error(self.name, exc) from exc
        return artifact

    def _float_model(self, source: ExportSource) -> Any:
        uint8_input = self.opts["uint8_input"]
        # One tf2onnx run per source and input type, shared by every quantization.
        return source.memo(f"onnx-fp32:uint8={uint8_input}", lambda: convert.to_onnx(
            source.saved_model, source.spec, uint8_input))

    def _quantize(self, source: ExportSource, model: Any, calib: CalibrationSet | None,
                  artifact: Path, float_head: bool) -> None:
        from exporters.formats.onnx.quantize import quantize_int8

        if calib is None:
            raise self.calibration_missing("int8")
        inputs = (calibration_pixels(calib, source.spec.input) if self.opts["uint8_input"]
                  else calib.inputs)
        quantize_int8(model, inputs, artifact, float_head)

    def artifact_spec(self, artifact: Path, spec: DetectorSpec) -> DetectorSpec:
        return raw_pixel_spec(spec) if self.opts["uint8_input"] else spec

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        metadata.embed_json(artifact, spec.to_json())

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        data = metadata.read_json(artifact)
        if data is None:
            raise ExportError(f"{artifact}: no metadata_props entry {metadata.METADATA_KEY}")
        return DetectorSpec.from_dict(data, f"{artifact}:{metadata.METADATA_KEY}")

    def runner(self, artifact: Path, spec: DetectorSpec) -> BackendRunner:
        from sdk.runtime.onnx import OnnxBackend

        threads = os.cpu_count() or 1
        backend = OnnxBackend(artifact, spec, num_threads=threads)
        return BackendRunner(backend, f"onnxruntime {package_version('onnxruntime')} "
                                      f"(CPU, {threads} threads)")
