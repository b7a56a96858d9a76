"""Find the model and its ``detector.json`` from whatever path the user passes to ``load``."""

from __future__ import annotations

from pathlib import Path

from sdk.runtime.contract import RuntimeLoadError
from sdk.runtime.registry import engine_for_path, engines, runnable_artifacts
from sdk.spec import SPEC_FILENAME, DetectorSpec, SpecError

TFJS_HINT = ("TF.js graph models run in the browser runtime (sdk/js/detector.js, see the "
             "README 'Browser runtime'); in Python, load the .tflite or SavedModel export")
COREML_HINT = "CoreML models run on Apple devices; in Python, load the .tflite export"
SpecSource = DetectorSpec | str | Path | None


def locate(path: str | Path, spec: SpecSource = None) -> tuple[Path, DetectorSpec]:
    """Return ``(model, spec)`` for an export folder, a model any registered engine opens
    (:mod:`sdk.runtime.registry`: a ``.tflite`` or ``.onnx`` file, a SavedModel folder) or a
    ``detector.json`` path; ``spec`` overrides the detector.json found next to the model.

    Raises:
        RuntimeLoadError: nothing runnable at ``path`` (with a hint for TF.js/CoreML).
        SpecError: no ``detector.json``, or an invalid one.
    """
    path = Path(path)
    if not path.exists():
        raise RuntimeLoadError(f"{path}: no such file or folder")
    if path.is_file() and path.name == SPEC_FILENAME:
        path = path.parent
    model = _model_in_folder(path) if path.is_dir() else _model_file(path)
    return model, _spec_for(model, spec)


def _model_file(path: Path) -> Path:
    if engine_for_path(path) is not None:
        return path
    if path.suffix == ".json":
        raise RuntimeLoadError(f"{path}: {TFJS_HINT}")
    if path.suffix in (".mlmodel", ".mlpackage"):
        raise RuntimeLoadError(f"{path}: {COREML_HINT}")
    raise RuntimeLoadError(f"{path}: unsupported model file (expected {runnable_artifacts()}, "
                           f"or an export folder with {SPEC_FILENAME})")


def _model_in_folder(folder: Path) -> Path:
    if folder.suffix == ".mlpackage":
        raise RuntimeLoadError(f"{folder}: {COREML_HINT}")
    for engine in engines():  # in registry order: the first engine with a model wins
        models = engine.models_in(folder)
        if len(models) > 1:
            names = ", ".join(p.name for p in models)
            raise RuntimeLoadError(f"{folder}: several models ({names}); pass the one to load")
        if models:
            return models[0]
    if (folder / "model.json").is_file():
        raise RuntimeLoadError(f"{folder}: {TFJS_HINT}")
    raise RuntimeLoadError(f"{folder}: no model found (expected {runnable_artifacts()})")


def _spec_for(model: Path, spec: SpecSource) -> DetectorSpec:
    if isinstance(spec, DetectorSpec):
        return spec
    if spec is not None:
        return DetectorSpec.load(spec)
    folder = model if model.is_dir() else model.parent
    if (folder / SPEC_FILENAME).is_file():
        return DetectorSpec.load(folder)
    embedded = embedded_spec(model) if model.is_file() else None
    if embedded is None:
        raise SpecError(f"{folder / SPEC_FILENAME}: file not found, and none is embedded in "
                        f"{model.name}; every export has one (for your own model write one, "
                        f"see the README 'Bring your own detector', or pass spec=)")
    return embedded


def embedded_spec(model: Path) -> DetectorSpec | None:
    """The ``detector.json`` embedded in a model file, if any (its engine knows where:
    :meth:`sdk.runtime.backends.Backend.embedded_spec`)."""
    engine = engine_for_path(model)
    return engine.embedded_spec(model) if engine is not None else None
