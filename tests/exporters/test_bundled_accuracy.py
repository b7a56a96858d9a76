"""Every variant knows its accuracy: the bundled models' data regenerated, measured by default.

* The validation images the exporter regenerates are the very files of ``sdk data synth
  --seed 0`` (byte-identical), and on all 300 of them the bundled Fast scores the mAP its
  model card states.
* ``sdk export --format tflite --quantize int8`` of the bundled Fast needs no other option:
  it calibrates on regenerated train images and records the artifact's measured mAP.
* A user's model exported without ``--data`` records its card's mAP, marked as such.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sdk.data.bundled import BUNDLED_RECIPE, EVAL_IMAGES, recipe_of, regenerate_subset
from sdk.models.io import BUNDLED_DIR, CARD_FILE

ROOT = Path(__file__).resolve().parents[2]
SDK = Path(sys.executable).with_name("sdk")
# Log lines TensorFlow, XLA, absl and LiteRT print on their own (none may reach the user).
LIBRARY_NOISE = ("absl::InitializeLog", "computation placer", "Unable to register cu",
                 "cuInit", "XNNPACK delegate", "Starting new session", "fully_quantize")


def _card(model: str) -> dict:
    return json.loads((BUNDLED_DIR / model / CARD_FILE).read_text())


def test_regenerated_images_are_the_datasets_own_files(tmp_path: Path) -> None:
    from sdk.data.synth import generate

    full = generate(tmp_path / "full", seed=BUNDLED_RECIPE.seed, train=1, val=4, test=0)
    subset = regenerate_subset(BUNDLED_RECIPE, "val", 3, cache=tmp_path / "cache")
    for name in ("000000.jpg", "000001.jpg", "000002.jpg"):
        assert (subset / "val" / name).read_bytes() == (full / "val" / name).read_bytes()
    ours = json.loads((subset / "val" / "_annotations.coco.json").read_text())
    theirs = json.loads((full / "val" / "_annotations.coco.json").read_text())
    assert ours["images"] == theirs["images"][:3]
    assert ours["annotations"] == [a for a in theirs["annotations"] if a["image_id"] < 3]
    assert "images 0-2 of 300" in ours["info"]["description"]  # says which images


def test_the_cache_is_reused(tmp_path: Path) -> None:
    first = regenerate_subset(BUNDLED_RECIPE, "val", 2, cache=tmp_path)
    stamp = (first / "val" / "000000.jpg").stat().st_mtime_ns
    assert regenerate_subset(BUNDLED_RECIPE, "val", 2, cache=tmp_path) == first
    assert (first / "val" / "000000.jpg").stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="cannot take 301 images"):
        regenerate_subset(BUNDLED_RECIPE, "val", 301, cache=tmp_path)


def test_only_the_bundled_models_have_a_recipe(tmp_path: Path) -> None:
    from exporters.source import card_accuracy, source_recipe

    for model in ("fast", "accurate"):
        assert recipe_of(BUNDLED_DIR / model, _card(model)) == BUNDLED_RECIPE
        assert source_recipe(model) == BUNDLED_RECIPE
        accuracy = card_accuracy(_card(model), BUNDLED_RECIPE)
        assert accuracy == {"from": "model card", "split": "data/synth val", "images": 300,
                            "mAP": _card(model)["metrics"]["val"]["mAP"],
                            "mAP50": _card(model)["metrics"]["val"]["mAP50"]}
    copy = shutil.copytree(BUNDLED_DIR / "fast", tmp_path / "fast")  # a user's folder
    assert source_recipe(copy) is None and recipe_of(copy, _card("fast")) is None


@pytest.mark.slow
def test_the_regenerated_val_split_gives_the_cards_mAP(tmp_path: Path) -> None:
    from sdk.data import load_dataset
    from sdk.evaluate import evaluate_model

    root = regenerate_subset(BUNDLED_RECIPE, "val", BUNDLED_RECIPE.counts["val"],
                             cache=tmp_path)
    metrics = evaluate_model("fast", load_dataset(root, "val"))
    assert metrics["mAP"] == pytest.approx(_card("fast")["metrics"]["val"]["mAP"], abs=1e-4)


@pytest.mark.slow
def test_bundled_fast_to_int8_needs_no_option(tmp_path: Path) -> None:
    result = subprocess.run([str(SDK), "export", "--format", "tflite", "--quantize", "int8",
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1800, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert not [n for n in LIBRARY_NOISE if n in output], output[-4000:]
    table = [line for line in result.stdout.splitlines()
             if not line.startswith(("->", "tables:"))]  # those name (long) temporary paths
    assert max(len(line) for line in table) <= 80, result.stdout  # the table fits
    spec = json.loads((tmp_path / "fast-tflite-int8" / "detector.json").read_text())
    assert spec["provenance"]["calibration_sha256"]  # calibrated, on regenerated train images
    accuracy = spec["metrics"]["accuracy"]
    assert accuracy["basis"] == "artifact"
    artifact = accuracy["artifact"]
    assert artifact["images"] == EVAL_IMAGES and "synth val images 0-" in artifact["split"]
    assert accuracy["mAP"] == artifact["mAP"] and 0.3 < artifact["mAP"] <= 1
    assert artifact["delta_mAP"] == pytest.approx(
        100 * (artifact["source_mAP"] - artifact["mAP"]), abs=0.01)
    assert accuracy["source"]["mAP"] == _card("fast")["metrics"]["val"]["mAP"]


@pytest.mark.slow
def test_a_user_model_without_data_records_its_cards_mAP(confident_fast: Path,
                                                         tmp_path: Path) -> None:
    from exporters.export import export

    model = shutil.copytree(confident_fast, tmp_path / "mine")
    card = {"dataset": "my/data", "metrics": {"test": {"mAP": 0.4321, "mAP50": 0.65}}}
    (model / CARD_FILE).write_text(json.dumps(card))
    result = export(model, "tflite", "fp32", out_root=tmp_path / "exports")
    accuracy = result.spec.metrics["accuracy"]
    assert accuracy["basis"] == "source" and accuracy["artifact"] is None
    assert accuracy["mAP"] == 0.4321 and accuracy["mAP50"] == 0.65
    assert accuracy["source"] == {"from": "model card", "split": "my/data test", "images": None,
                                  "mAP": 0.4321, "mAP50": 0.65}
    saved = json.loads((result.out_dir / "detector.json").read_text())
    assert saved["metrics"]["accuracy"] == accuracy
