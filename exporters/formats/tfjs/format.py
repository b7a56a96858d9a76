"""TF.js graph model (``model.json`` + weight shards), checked in Node with the wasm backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from exporters.errors import ExportError
from exporters.formats.base import EXACT, HALF, LOW_BIT, ExportFormat, conversion_error
from exporters.formats.tfjs.graph import unfuse_tensor_biases
from sdk.atomic import write_text_atomic
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.formats.tfjs.node import NodeRunner
    from exporters.source import ExportSource

USAGE = """\
## Browser (TF.js, served by `sdk serve` / the web demo)

```js
import {{ load }} from "/static/sdk/detector.js";
const detector = await load("{url}/");   // model.json + detector.json of this folder
const detections = await detector.detect(videoElement);
detector.dispose();
```
"""

METADATA_KEY = "detector"  # model.json userDefinedMetadata.detector = detector.json
# The decoder's anchor constants (layer ``boxes``; the converter folds them into six arrays
# of one value per anchor) place every box. uint8 steps of 1/255 of their range move anchors
# by up to 2 px at 448 px, which cost the trained Accurate 2 mAP points; as uint16 (steps of
# 1/65535) they cost nothing measurable and add 1 byte per value. Names are the converter's
# node names (``.../<model>_inference_1/boxes_1/add``), matched with fnmatch.
DECODER_WEIGHTS = ("*/boxes/*", "*/boxes_[0-9]*/*")


def quantization_dtype_map(quantization: str) -> dict[str, Any] | None:
    """The converter's weight dtypes: ``quantization`` for all, the decoder's kept >= 16 bit."""
    if quantization == "fp32":
        return None
    if quantization == "uint8":
        return {"uint16": list(DECODER_WEIGHTS), "uint8": True}  # True: every other weight
    return {"float16" if quantization == "fp16" else quantization: True}


def import_converter() -> Any:
    """Import tensorflowjs, working around two import-time side effects of its dependencies.

    * tensorflowjs imports tensorflow_hub, which imports ``pkg_resources`` (removed from
      setuptools >= 81) only for ``parse_version``; ``packaging`` provides the same function.
    * tensorflowjs imports tensorflow_decision_forests, whose welcome banner imports
      IPython whenever stdout is not a terminal (pytest, pipes): the variable turns it off.
    """
    import importlib.util
    import os
    import sys
    import types

    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)
    from tensorflowjs.converters import tf_saved_model_conversion_v2

    return tf_saved_model_conversion_v2


class TFJSFormat(ExportFormat):
    """A TF.js graph model; weights optionally stored as fp16 / uint16 / uint8.

    Weight quantization only shrinks the download: the browser dequantizes to float32 when
    loading, so compute and latency are those of fp32.
    """

    name = "tfjs"
    quantizations = ("fp32", "fp16", "uint8", "uint16")
    budget_class: ClassVar[dict[str, str]] = {"fp32": EXACT, "fp16": HALF, "uint16": HALF,
                                              "uint8": LOW_BIT}
    shard_bytes = 4 * 1024 * 1024  # browsers cache and fetch shards separately; 4 MB each
    converter_packages = ("tensorflow", "tensorflowjs")
    filename = "model.json"
    usage = USAGE
    python_runtime = False  # sdk.load runs TFLite / SavedModel; TF.js runs in the browser

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        converter = import_converter()
        try:
            converter.convert_tf_saved_model(
                str(source.saved_model), str(out_dir),
                quantization_dtype_map=quantization_dtype_map(quantization),
                use_structured_outputs_names=True, weight_shard_size_bytes=self.shard_bytes)
        except Exception as exc:  # the converter raises many types; all mean "cannot convert"
            raise conversion_error(self.name, exc) from exc
        artifact = out_dir / self.filename
        if not artifact.is_file():  # the converter prints and returns on some failures
            raise ExportError(f"tfjs converter wrote no {self.filename} in {out_dir}")
        model = json.loads(artifact.read_text())
        self.unfused = unfuse_tensor_biases(model)  # see exporters.formats.tfjs.graph
        if self.unfused:
            write_text_atomic(artifact, json.dumps(model))
        return artifact

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        model = json.loads(artifact.read_text())
        model.setdefault("userDefinedMetadata", {})[METADATA_KEY] = spec.to_dict()
        write_text_atomic(artifact, json.dumps(model))

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        meta = json.loads(artifact.read_text()).get("userDefinedMetadata", {})
        if METADATA_KEY not in meta:
            raise ExportError(f"{artifact}: no userDefinedMetadata.{METADATA_KEY}")
        return DetectorSpec.from_dict(meta[METADATA_KEY], f"{artifact}:{METADATA_KEY}")

    def runner(self, artifact: Path, spec: DetectorSpec) -> NodeRunner:
        from exporters.formats.tfjs.node import NodeRunner

        return NodeRunner(artifact.parent, spec)

    def validate(self, artifact: Path, spec: DetectorSpec) -> dict[str, Any]:
        checked = super().validate(artifact, spec)
        outputs = json.loads(artifact.read_text())["signature"]["outputs"]
        missing = {spec.outputs.boxes, spec.outputs.scores} - set(outputs)
        if missing:
            raise ExportError(f"{artifact}: signature outputs {sorted(outputs)} lack "
                              f"{sorted(missing)} named in detector.json")
        return {**checked, "signature_outputs": sorted(outputs),
                "unfused_for_wasm": getattr(self, "unfused", [])}

    def artifact_size(self, artifact: Path) -> int:
        model = json.loads(artifact.read_text())
        shards = [p for group in model["weightsManifest"] for p in group["paths"]]
        return artifact.stat().st_size + sum((artifact.parent / p).stat().st_size
                                             for p in shards)

