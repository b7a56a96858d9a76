"""Tiny end-to-end training: build, train, checkpoint, resume, save, load, eval, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sdk.cli import main
from sdk.data import load_dataset
from sdk.models.config import DetectorConfig
from sdk.train.batches import Augment, augment_sample

pytestmark = pytest.mark.slow

TRAIN_ARGS = ["--epochs", "1", "--batch-size", "4", "--input-size", "96"]


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    # --resume without a run folder trains from epoch 1: 'make weights' on a fresh clone,
    # where no run folder is committed
    out = tmp_path_factory.mktemp("run") / "fast"
    result = CliRunner().invoke(main, ["train", "--arch", "fast", "--data", str(tiny_data),
                                       "--out", str(out), "--resume", "--json", *TRAIN_ARGS])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output[result.output.index("{"):])


def test_train_writes_model_card_and_weights(trained):
    out, card = trained
    assert (out / "model.weights.h5").is_file() and (out / "checkpoint" / "state.json").is_file()
    saved = json.loads((out / "model_card.json").read_text())
    assert saved["dataset_sha256"] == card["dataset_sha256"] and len(saved["history"]) == 1
    assert np.isfinite(saved["history"][0]["loss"])
    assert set(saved["metrics"]["val"]) >= {"mAP", "mAP50", "AP_small"}
    assert DetectorConfig.load(out / "config.json").input_size == (96, 96)


def test_resuming_a_finished_run_changes_nothing(trained, tiny_data):
    out, _ = trained
    files = [out / "model.weights.h5", out / "model_card.json", out / "checkpoint" / "state.json"]
    before = [f.read_bytes() for f in files]
    result = CliRunner().invoke(main, ["train", "--arch", "fast", "--data", str(tiny_data),
                                       "--out", str(out), "--resume", *TRAIN_ARGS])
    assert result.exit_code == 0, result.output
    assert [f.read_bytes() for f in files] == before  # no batch-norm pass, no rewrite


def test_resume_continues_from_a_copied_run_folder(trained, tiny_data, tmp_path):
    import shutil

    out = shutil.copytree(trained[0], tmp_path / "elsewhere")  # e.g. on another machine
    result = CliRunner().invoke(main, ["train", "--arch", "fast", "--data", str(tiny_data),
                                       "--out", str(out), "--resume", "--json",
                                       "--epochs", "2", "--batch-size", "4", "--input-size", "96",
                                       "--eval-split", ""])
    assert result.exit_code == 0, result.output
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert [row["epoch"] for row in state["history"]] == [1, 2]
    assert state["options"]["epochs"] == 2  # the options of the run that continued it


def test_refuses_to_resume_on_other_data(trained, tmp_path):
    from sdk.data.synth import generate

    out, _ = trained
    other = generate(tmp_path / "other", seed=8, train=4, val=1, test=1)
    result = CliRunner().invoke(main, ["train", "--arch", "fast", "--data", str(other),
                                       "--out", str(out), "--resume", *TRAIN_ARGS])
    assert result.exit_code != 0 and "trained on another dataset" in result.output


def test_refuses_to_clobber_a_run_without_resume(trained, tiny_data):
    out, _ = trained
    result = CliRunner().invoke(main, ["train", "--data", str(tiny_data), "--out", str(out),
                                       *TRAIN_ARGS])
    assert result.exit_code != 0 and "--resume" in result.output


def test_eval_command_prints_metrics(trained, tiny_data):
    out, _ = trained
    result = CliRunner().invoke(main, ["eval", "--model", str(out), "--data", str(tiny_data),
                                       "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    assert "mAP50" in json.loads(result.output)[0]


def test_eval_missing_model_is_a_clear_error(tiny_data, tmp_path):
    result = CliRunner().invoke(main, ["eval", "--model", str(tmp_path), "--data",
                                       str(tiny_data)])
    assert result.exit_code == 1 and "not a trained detector folder" in result.output


def test_augmentation_keeps_boxes_on_the_objects(tiny_data):
    from sdk.data import load_image
    from sdk.models import default_config

    ds = load_dataset(tiny_data, "train")
    cfg = default_config("fast", ds.classes, input_size=128)
    rng = np.random.default_rng(0)
    for s in ds.samples[:4]:
        pixels, boxes, labels = augment_sample(load_image(s.image_path), s.boxes, s.labels, cfg,
                                               Augment(), rng)
        assert pixels.shape == (128, 128, 3) and len(boxes) == len(labels)
        assert boxes.min(initial=0) >= 0 and boxes.max(initial=1) <= 1
        plain, pboxes, _ = augment_sample(load_image(s.image_path), s.boxes, s.labels, cfg,
                                          Augment.none(), rng)
        assert len(pboxes) == len(s.boxes)  # no augmentation keeps every object


def test_checkpoint_eval_measures_the_latest_checkpoint(trained, tiny_data):
    from benchmarks import checkpoint_eval

    out, _ = trained
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    result = checkpoint_eval.main([str(out), "--data", str(tiny_data), "--images", "2"])
    assert result["epoch"] == state["epoch"] and result["images"] == 2
    assert 0.0 <= result["mAP"] <= 1.0 and "AP50_small" in result


def test_checkpoint_eval_names_a_folder_without_checkpoint(tmp_path, tiny_data):
    from benchmarks import checkpoint_eval

    with pytest.raises(SystemExit, match="config.json: missing"):
        checkpoint_eval.main([str(tmp_path), "--data", str(tiny_data)])
