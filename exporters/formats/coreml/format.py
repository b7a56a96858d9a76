"""CoreML mlprogram (fp16, int8 or palettized weights) plus the Vision-ready NMS pipeline."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from exporters.errors import ExportError
from exporters.formats.base import HALF, LOW_BIT, ExportFormat, conversion_error, time_loop
from exporters.formats.coreml import vision
from sdk.spec import SPEC_FILENAME, DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from exporters.calibration import CalibrationSet
    from exporters.formats.coreml.mil.runner import InterpreterRunner
    from exporters.source import ExportSource

USAGE = """\
## iOS / macOS (Apple Vision)

Add `Detector.mlpackage` to the Xcode project (Xcode shows an object-detector preview).

```swift
let model = try VNCoreMLModel(for: Detector(configuration: MLModelConfiguration()).model)
let request = VNCoreMLRequest(model: model) {{ request, _ in
    for case let obs as VNRecognizedObjectObservation in request.results ?? [] {{
        print(obs.labels.first?.identifier ?? "", obs.confidence, obs.boundingBox)
    }}
}}
request.imageCropAndScaleOption = .scaleFit   // letterbox, as in training
```
(Vision pads the letterbox with black, detector.json says gray {pad}: objects touching the
border may score slightly differently.)
`model.mlpackage` is the bare network (`{input}` -> `boxes`, `scores`) for custom pipelines;
NMS thresholds can be changed per request through the `iouThreshold` /
`confidenceThreshold` inputs of `Detector.mlpackage`.
"""

# Weight compression of each quantization: the op that must appear in the program.
_WEIGHT_OPS = {"int8": "constexpr_affine_dequantize", "palettize6": "constexpr_lut_to_dense",
               "palettize4": "constexpr_lut_to_dense"}


class CoreMLFormat(ExportFormat):
    """``model.mlpackage`` (images -> boxes, scores) and ``Detector.mlpackage`` (Vision).

    ``model.mlpackage`` is what the parity gate runs (Core ML on macOS, the numpy ML-program
    interpreter of :mod:`exporters.formats.coreml.mil` elsewhere); ``Detector.mlpackage``
    wraps the same converted program in the pipeline of :mod:`exporters.formats.coreml.vision`.
    Both carry detector.json in ``user_defined_metadata``.
    """

    name = "coreml"
    quantizations = ("fp16", "int8", "palettize6", "palettize4")
    budget_class: ClassVar[dict[str, str]] = {"fp16": HALF, "int8": LOW_BIT,
                                              "palettize6": LOW_BIT, "palettize4": LOW_BIT}
    # Core ML's own predict needs Apple's framework; elsewhere the interpreter runs the program
    predict_platforms = ("darwin",)
    converter_packages = ("tensorflow", "coremltools")
    filename, vision_filename = "model.mlpackage", "Detector.mlpackage"
    usage = USAGE
    # sdk.load runs TFLite and SavedModel; it refuses CoreML (and TF.js) with a pointer to
    # the runtime that does run it (Apple devices).
    python_runtime = False

    def check_args(self, quantization: str, calib: object | None) -> None:
        super().check_args(quantization, calib)
        if quantization.startswith("palettize"):
            import importlib.util

            if importlib.util.find_spec("sklearn") is None:
                raise ExportError("CoreML palettization clusters weights with k-means from "
                                  "scikit-learn: pip install scikit-learn")

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        try:
            # One TF -> mlprogram conversion per source; each quantization compresses a copy.
            base = source.memo("coreml-mlprogram", lambda: _convert_detector(source))
            model = _compress(base, quantization)
            pipeline = vision.vision_pipeline(model, source.spec)
        except ExportError:
            raise
        except Exception as exc:  # coremltools raises many types; all mean "cannot convert"
            raise conversion_error(self.name, exc) from exc
        model.save(str(out_dir / self.filename))
        pipeline.save(str(out_dir / self.vision_filename))
        return out_dir / self.filename

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        import coremltools as ct

        for package in (artifact, artifact.parent / self.vision_filename):
            model = ct.models.MLModel(str(package), skip_model_load=True)
            model.user_defined_metadata[SPEC_FILENAME] = spec.to_json()
            tmp = package.with_name(f".tmp-{package.name}")  # keeps the .mlpackage suffix
            model.save(str(tmp))
            shutil.rmtree(package)
            tmp.rename(package)

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        meta = _load_spec(artifact).description.metadata.userDefined
        if SPEC_FILENAME not in meta:
            raise ExportError(f"{artifact}: no user_defined_metadata[{SPEC_FILENAME!r}]")
        return DetectorSpec.from_dict(json.loads(meta[SPEC_FILENAME]), f"{artifact}:metadata")

    def runner(self, artifact: Path, spec: DetectorSpec) -> CoreMLRunner | InterpreterRunner:
        """Core ML itself on macOS; elsewhere the numpy ML-program interpreter.

        Loading the interpreter refuses a program holding an op it has no kernel for
        (:class:`~exporters.formats.coreml.mil.errors.UnsupportedOpError`, an
        :class:`ExportError` naming the op), so such an export fails instead of passing.
        """
        if sys.platform in self.predict_platforms:
            return CoreMLRunner(artifact, spec)
        from exporters.formats.coreml.mil.runner import InterpreterRunner

        return InterpreterRunner(artifact, spec)

    def validate(self, artifact: Path, spec: DetectorSpec) -> dict[str, Any]:
        from exporters.formats.coreml.check import check_detector, check_pipeline

        checked = super().validate(artifact, spec)
        precision = self._precision(artifact)
        checked.update(check_detector(_load_spec(artifact), spec), weights=precision)
        pipeline = artifact.parent / self.vision_filename
        checked.update(check_pipeline(_load_spec(pipeline), spec))
        return checked

    def _precision(self, artifact: Path) -> str:
        ops = _op_types(_load_spec(artifact))
        quant = self.read_metadata(artifact).provenance.get("quantization", "fp16")
        needed = _WEIGHT_OPS.get(quant)
        if needed and not ops[needed]:
            raise ExportError(f"{artifact}: {quant} export has no {needed} op (weights "
                              f"were not compressed)")
        return f"{quant} ({ops[needed]} {needed} ops)" if needed else "fp16"


class CoreMLRunner:
    """``model.mlpackage`` run by CoreML (macOS only)."""

    def __init__(self, artifact: Path, spec: DetectorSpec):
        import coremltools as ct

        self.model, self.spec = ct.models.MLModel(str(artifact)), spec
        self.description = f"CoreML (coremltools {ct.__version__})"

    def _one(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.model.predict({self.spec.input.name: x})
        return out[self.spec.outputs.boxes], out[self.spec.outputs.scores]

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        outs = [self._one(inputs[i:i + 1]) for i in range(len(inputs))]
        return (np.concatenate([o[0] for o in outs]).astype(np.float32),
                np.concatenate([o[1] for o in outs]).astype(np.float32))

    def latency(self, inputs: np.ndarray, runs: int, warmup: int) -> list[float]:
        return time_loop(lambda i: self._one(inputs[i % len(inputs)][None]), runs, warmup)


def _convert_detector(source: ExportSource) -> Any:
    """Convert the staged SavedModel's serving function; outputs renamed boxes/scores."""
    import coremltools as ct
    import numpy as np
    import tensorflow as tf

    fn = tf.saved_model.load(str(source.saved_model)).signatures["serving_default"]
    # fn.outputs follow the flattened (sorted-key) structure of structured_outputs.
    names = {k: t.name.split(":")[0] for k, t in zip(sorted(fn.structured_outputs), fn.outputs,
                                                     strict=True)}
    spec = source.spec
    h, w = spec.input.size
    model = ct.convert(
        [fn], source="tensorflow", convert_to="mlprogram",
        inputs=[ct.TensorType(name=spec.input.name, shape=(1, h, w, 3), dtype=np.float32)],
        outputs=[ct.TensorType(name=names[k], dtype=np.float32) for k in ("boxes", "scores")],
        compute_precision=ct.precision.FLOAT16,
        minimum_deployment_target=getattr(ct.target, vision.DEPLOYMENT_TARGET))
    mlspec = model.get_spec()
    for key, wanted in (("boxes", spec.outputs.boxes), ("scores", spec.outputs.scores)):
        ct.utils.rename_feature(mlspec, names[key], wanted)
    return ct.models.MLModel(mlspec, weights_dir=model.weights_dir)


def _compress(model: Any, quantization: str) -> Any:
    from coremltools.optimize import coreml as opt

    if quantization == "int8":
        config = opt.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8")
        return opt.linear_quantize_weights(model, opt.OptimizationConfig(global_config=config))
    if quantization.startswith("palettize"):
        config = opt.OpPalettizerConfig(mode="kmeans", nbits=int(quantization[-1]))
        return opt.palettize_weights(model, opt.OptimizationConfig(global_config=config))
    return model


def _load_spec(package: Path) -> Any:
    import coremltools as ct

    return ct.utils.load_spec(str(package))


def _op_types(mlspec: Any) -> Counter:
    ops: Counter = Counter()
    for function in mlspec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            ops.update(op.type for op in block.operations)
    return ops
