"""``benchmarks.anchor_coverage``: anchor coverage per size bucket from configs alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import anchor_coverage
from sdk.anchors import AnchorLevel
from sdk.data import load_dataset
from sdk.models import default_config


def _config_dir(root: Path, arch: str, labels: tuple[str, ...], **overrides) -> Path:
    """A run folder holding only ``config.json``, as ``sdk train`` writes it up front."""
    root.mkdir()
    default_config(arch, labels, **overrides).save(root / "config.json")
    return root


def test_accurate_stride8_level_covers_small_boxes_better(tiny_data, tmp_path, capsys):
    labels = load_dataset(tiny_data, "train").classes
    fast = _config_dir(tmp_path / "fast", "fast", labels)
    accurate = _config_dir(tmp_path / "accurate", "accurate", labels)
    anchor_coverage.main(["--data", str(tiny_data), "--split", "train", "--models", str(fast),
                          str(accurate), "--out", str(tmp_path / "out")])
    report = json.loads((tmp_path / "out" / "anchor_coverage.json").read_text())
    rows = report["models"]
    small_f, small_a = rows[str(fast)]["small"], rows[str(accurate)]["small"]
    assert small_f["boxes"] == small_a["boxes"] > 0
    assert small_a["best_iou_mean"] > small_f["best_iou_mean"]
    assert small_a["below_positive"] < small_f["below_positive"]
    assert str(accurate) in capsys.readouterr().out


def test_one_huge_anchor_leaves_small_boxes_below_the_positive_iou(tiny_data, tmp_path):
    labels = load_dataset(tiny_data, "train").classes
    huge = _config_dir(tmp_path / "huge", "fast", labels,
                       levels=(AnchorLevel(stride=32, size=300.0),))
    small = anchor_coverage.main(["--data", str(tiny_data), "--split", "train", "--models",
                                  str(huge), "--out", str(tmp_path)])["models"][str(huge)]["small"]
    assert small["below_positive"] == 1.0 and small["best_iou_mean"] < 0.1


def test_folder_without_config_is_a_clear_error(tiny_data, tmp_path):
    with pytest.raises(SystemExit, match="no config.json"):
        anchor_coverage.main(["--data", str(tiny_data), "--models", str(tmp_path)])
