"""The model being exported: its base ``detector.json``, a staged fp32 SavedModel, a reference.

Every format converts from the same staged SavedModel (one trace, not one per format), and
the parity gate compares every artifact with the same reference: the Keras model itself
for a trained detector folder, or the SavedModel when one is given.

The source also knows its accuracy as its model card states it (split, mAP, mAP@.5), and,
for the bundled models, the recipe of the synthetic data they were trained on
(:mod:`sdk.data.bundled`): the exporter regenerates its validation images to measure each
artifact's mAP, and its train images to calibrate int8, without any ``--data``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exporters.errors import ExportError
from sdk import __version__
from sdk.data.bundled import SynthRecipe, recipe_of
from sdk.evaluate import RawFn
from sdk.spec import SPEC_FILENAME, DetectorSpec, OutputSpec, SpecError

SERVING_SIGNATURE = "serving_default"


class ModelSourceError(ExportError):
    """``--model`` names no trained detector folder, bundled model or SavedModel export."""


@dataclass
class ExportSource:
    """A loaded model ready to export; use as a context manager to clean its staging folder.

    Attributes:
        name: Short name used in default output folders (``fast``, ``accurate``, folder name).
        spec: The ``detector.json`` every export starts from (provenance of the source).
        saved_model: fp32 SavedModel whose ``serving_default`` maps ``images`` to
            ``boxes``/``scores`` (frozen: weights are constants, nothing to re-trace).
        reference: The source model's raw outputs for a preprocessed batch.
        staging: Temporary folder deleted by :meth:`close` (None: nothing to delete).
        cache: Per-source memo (reference outputs, reference metrics) shared by exports.
        origin: What runs :attr:`reference` (recorded in ``reference.json``).
        accuracy: The source model's accuracy from its model card (``from``, ``split``,
            ``images``, ``mAP``, ``mAP50``), None when it has no card with metrics.
        recipe: How the sdk regenerates the model's data (bundled models only).
        licenses: Licence files beside an imported model (its detector.json lists them in
            ``provenance.licenses``), copied into every export folder.
    """

    name: str
    spec: DetectorSpec
    saved_model: Path
    reference: RawFn
    staging: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    origin: str = "fp32"
    accuracy: dict[str, Any] | None = None
    recipe: SynthRecipe | None = None
    licenses: tuple[Path, ...] = ()

    def memo(self, key: str, factory: Callable[[], Any]) -> Any:
        """``factory()`` computed once per source (e.g. a calibration shared by exports)."""
        if key not in self.cache:
            self.cache[key] = factory()
        return self.cache[key]

    def close(self) -> None:
        """Delete the staging folder (the staged SavedModel)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def __enter__(self) -> ExportSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def source_name(model: str | Path) -> str:
    """The short name of ``model`` used in output folders, known before loading it."""
    from sdk.models.io import BUNDLED

    path = Path(model)
    if str(model) in BUNDLED and not path.exists():
        return str(model)
    path = path.resolve()
    # "runs/x/saved_model" or an export's "saved_model/" folder: name it after the parent.
    return path.parent.name if path.name == "saved_model" else path.name


def open_source(model: str | Path) -> ExportSource:
    """Load ``fast``, ``accurate``, a ``sdk train`` folder or a SavedModel export.

    Raises:
        ModelSourceError: nothing loadable at ``model``.
    """
    path = Path(model)
    saved = _saved_model_dir(path)
    if saved is not None:
        return _from_saved_model(saved, path)
    return _from_detector(model)


def _saved_model_dir(path: Path) -> Path | None:
    for candidate in (path, path / "saved_model"):
        if (candidate / "saved_model.pb").is_file():
            return candidate
    return None


def _from_saved_model(saved: Path, given: Path) -> ExportSource:
    from sdk.runtime.contract import RuntimeLoadError
    from sdk.runtime.savedmodel import SavedModelBackend

    spec_file = next((p / SPEC_FILENAME for p in (saved, saved.parent)
                      if (p / SPEC_FILENAME).is_file()), None)
    if spec_file is None:
        raise ModelSourceError(f"{given}: a SavedModel needs its {SPEC_FILENAME} beside it "
                               f"(labels and preprocessing cannot be guessed)")
    try:
        spec = DetectorSpec.load(spec_file)
        backend = SavedModelBackend(saved, spec)
    except (SpecError, RuntimeLoadError) as exc:
        raise ModelSourceError(str(exc)) from exc
    spec = spec.with_provenance(source=str(given))
    recorded = spec.metrics.get("accuracy", {})  # an export's detector.json carries it along
    return ExportSource(source_name(given), _clean(spec), saved, backend.run,
                        origin="savedmodel fp32",
                        accuracy=recorded.get("source") if isinstance(recorded, dict) else None,
                        licenses=_licenses(spec, spec_file.parent))


def _licenses(spec: DetectorSpec, folder: Path) -> tuple[Path, ...]:
    """The licence files ``provenance.licenses`` names, which must lie beside detector.json."""
    names = spec.provenance.get("licenses") or []
    missing = [n for n in names if not (folder / Path(n).name).is_file()]
    if missing:
        raise ModelSourceError(f"{folder / SPEC_FILENAME}: provenance.licenses names "
                               f"{', '.join(missing)}, missing from {folder} (an imported "
                               f"model's licence must travel with its exports)")
    return tuple(folder / Path(n).name for n in names)


def _from_detector(model: str | Path) -> ExportSource:
    from sdk.anchors import generate_anchors
    from sdk.models import build_inference_model
    from sdk.models.io import ModelNotFoundError, load_detector, weights_sha256

    try:
        net, cfg, model_dir = load_detector(model)
    except ModelNotFoundError as exc:
        raise ModelSourceError(str(exc)) from exc
    inference = build_inference_model(net, cfg)
    staging = Path(tempfile.mkdtemp(prefix="sdk-export-"))
    try:
        saved, reference = stage_saved_model(inference, cfg.input_size, staging / "saved_model")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    spec = DetectorSpec(
        input=cfg.input_spec, labels=cfg.labels, nms=cfg.nms,
        outputs=OutputSpec(num_anchors=len(generate_anchors(cfg.levels, cfg.input_size))),
        provenance={"architecture": cfg.arch, "source": str(model),
                    "source_weights_sha256": weights_sha256(model_dir)})
    card = read_card(model_dir)
    recipe = recipe_of(model_dir, card)
    return ExportSource(source_name(model), spec, saved, reference, staging,
                        origin="keras fp32", accuracy=card_accuracy(card, recipe), recipe=recipe)


def read_card(model_dir: Path) -> dict[str, Any] | None:
    """The model card of a trained detector folder (None when absent or unreadable)."""
    import json

    from sdk.models.io import CARD_FILE

    try:
        card = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def card_accuracy(card: dict[str, Any] | None, recipe: SynthRecipe | None = None,
                  ) -> dict[str, Any] | None:
    """The source's accuracy as its model card states it: the first split with an mAP.

    ``sdk train`` records ``metrics.<split>`` (COCO metrics of the finished model on that
    split of its ``dataset``); the image count is known for the bundled recipe only.
    """
    metrics = (card or {}).get("metrics")
    if not isinstance(metrics, dict):
        return None
    for split, values in metrics.items():
        if isinstance(values, dict) and isinstance(values.get("mAP"), int | float):
            dataset = card.get("dataset") if card else None
            return {"from": "model card", "split": f"{dataset or '?'} {split}",
                    "images": recipe.counts.get(split) if recipe else None,
                    "mAP": float(values["mAP"]),
                    "mAP50": float(values["mAP50"]) if "mAP50" in values else None}
    return None


def source_recipe(model: str | Path | ExportSource) -> SynthRecipe | None:
    """The data recipe of ``model`` without loading it (None: the user brings the data)."""
    from sdk.models.io import ModelNotFoundError, resolve_model_dir

    if isinstance(model, ExportSource):
        return model.recipe
    if _saved_model_dir(Path(model)) is not None:
        return None
    try:
        model_dir = resolve_model_dir(model)
    except ModelNotFoundError:
        return None
    return recipe_of(model_dir, read_card(model_dir))


def source_weights_sha256(model: str | Path | ExportSource) -> str | None:
    """The ``source_weights_sha256`` an export of ``model`` records, without loading it.

    None when ``model`` names nothing loadable or its SavedModel spec records no digest.
    """
    from sdk.exports import provenance
    from sdk.models.io import ModelNotFoundError, resolve_model_dir, weights_sha256

    if isinstance(model, ExportSource):
        return model.spec.provenance.get("source_weights_sha256")
    saved = _saved_model_dir(Path(model))
    if saved is not None:
        return next((provenance(p).get("source_weights_sha256") for p in (saved, saved.parent)
                     if (p / SPEC_FILENAME).is_file()), None)
    try:
        return weights_sha256(resolve_model_dir(model))
    except ModelNotFoundError:
        return None


def _clean(spec: DetectorSpec) -> DetectorSpec:
    """Drop the per-artifact fields of a spec read from a previous export."""
    # An imported model's title, origin and licence terms stay with every export.
    keep = ("architecture", "title", "source", "source_weights_sha256", "source_package",
            "source_version", "source_url", "source_upstream", "source_license", "licenses")
    return DetectorSpec(input=spec.input, labels=spec.labels, outputs=spec.outputs, nms=spec.nms,
                        provenance={k: v for k, v in spec.provenance.items() if k in keep})


def stage_saved_model(inference_model: Any, input_size: tuple[int, int], out: Path,
                      ) -> tuple[Path, RawFn]:
    """Trace once, freeze the weights into constants and save a serving-only SavedModel.

    Freezing makes the save about 3x faster than ``model.export`` (no per-variable
    tracking) and gives every converter the same constant graph. Also returns the traced
    Keras graph (live variables, not frozen) as the parity reference: the same computation
    as ``sdk.evaluate.keras_raw_fn`` without tracing the model a second time.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    h, w = input_size
    signature = [tf.TensorSpec([None, h, w, 3], tf.float32, name="images")]
    traced = tf.function(lambda images: inference_model(images, training=False),
                         input_signature=signature).get_concrete_function()
    frozen = convert_variables_to_constants_v2(traced)
    structure = traced.structured_outputs  # {"boxes": ..., "scores": ...}

    def serve(images):
        return tf.nest.pack_sequence_as(structure, frozen(images))

    module = tf.Module()
    module.serve = tf.function(serve, input_signature=signature)
    tf.saved_model.save(module, str(out),
                        signatures={SERVING_SIGNATURE: module.serve.get_concrete_function()})

    def reference(inputs):
        result = traced(tf.constant(inputs))
        return result["boxes"].numpy(), result["scores"].numpy()

    return out, reference


def export_provenance(fmt: str, quantization: str, calib_sha: str | None,
                      versions: dict[str, str]) -> dict[str, Any]:
    """Per-artifact provenance fields added to the source's."""
    return {"format": fmt, "quantization": quantization, "sdk_version": __version__,
            "calibration_sha256": calib_sha, "converters": versions,
            "export_date": datetime.now(UTC).isoformat(timespec="seconds")}
