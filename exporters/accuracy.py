"""What every export knows about its accuracy: ``metrics.accuracy`` in its detector.json.

* ``source``: the source model's accuracy as its model card states it (``from``, ``split``,
  ``images``, ``mAP``, ``mAP50``), or None for a model without a card.
* ``artifact``: the artifact's own COCO mAP, measured by the parity gate on an evaluation
  split (``--data``, or for a bundled model its regenerated validation images), with the
  source's mAP on the same images and ΔmAP in points; None when not measured.
* ``mAP``, ``mAP50``, ``basis``: the variant's accuracy as reports, the leaderboard's
  frontier and ``sdk recommend`` use it: the artifact's when measured (``artifact``), else
  the source card's (``source``), else None.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sdk.data import Dataset, load_dataset
from sdk.data.bundled import EVAL_IMAGES, regenerate_subset

if TYPE_CHECKING:  # pragma: no cover
    from exporters.source import ExportSource

EVAL_SPLIT = "val"


def bundled_eval_set(source: ExportSource, images: int = EVAL_IMAGES) -> Dataset | None:
    """The first ``images`` validation images of a bundled model's data (None otherwise).

    Rendered once into the user cache (:func:`sdk.data.bundled.regenerate_subset`) and
    loaded once per source; the dataset's ``source`` says which images they are.
    """
    recipe = source.recipe
    if recipe is None:
        return None

    def load() -> Dataset:
        dataset = load_dataset(regenerate_subset(recipe, EVAL_SPLIT, images), EVAL_SPLIT)
        return replace(dataset, source=recipe.describe(EVAL_SPLIT, images))

    return source.memo(f"bundled-eval:{images}", load)


def describe_eval_set(dataset: Dataset) -> str:
    """Which images an evaluation used, for detector.json (a person reads it)."""
    if dataset.source.startswith("synth "):  # a regenerated subset describes itself
        return dataset.source
    return f"{dataset.root} {dataset.split} ({len(dataset.samples)} images)"


def accuracy_section(source_accuracy: dict[str, Any] | None, measured: dict[str, Any],
                     eval_set: Dataset | None) -> dict[str, Any]:
    """``metrics.accuracy`` of one artifact.

    Args:
        source_accuracy: The source's card accuracy (:attr:`ExportSource.accuracy`).
        measured: The parity report's ``metrics`` (empty when no split was evaluated).
        eval_set: The split the parity gate evaluated on.
    """
    artifact = None
    if measured and eval_set is not None:
        artifact = {"split": describe_eval_set(eval_set), "images": measured["images"],
                    "mAP": measured["artifact"]["mAP"], "mAP50": measured["artifact"]["mAP50"],
                    "source_mAP": measured["source"]["mAP"], "delta_mAP": measured["delta_mAP"]}
    best = artifact or source_accuracy
    basis = "artifact" if artifact else ("source" if source_accuracy else None)
    return {"mAP": best["mAP"] if best else None, "mAP50": best.get("mAP50") if best else None,
            "basis": basis, "source": source_accuracy, "artifact": artifact}
