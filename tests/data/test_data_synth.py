"""The synthetic dataset generator: determinism, statistics, atomic output, geometry."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sdk.data.synth as synth
from sdk.data import DataError, load_dataset
from sdk.data.shapes import CLASSES, clip_polygon, polygon_area, transform, unit_shape
from sdk.data.stats import summarize

JSON = "_annotations.coco.json"


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_same_seed_same_bytes_whatever_the_workers(synth_root: Path, tmp_path: Path) -> None:
    again = synth.generate(tmp_path / "again", seed=3, train=6, val=3, test=2, workers=2)
    assert _files(again) == _files(synth_root)


def test_other_seed_other_data(synth_root: Path, tmp_path: Path) -> None:
    other = synth.generate(tmp_path / "other", seed=4, train=6, val=0, test=0)
    assert (other / "train" / JSON).read_bytes() != (synth_root / "train" / JSON).read_bytes()


def test_splits_counts_and_readme(synth_root: Path) -> None:
    counts = {split: len(load_dataset(synth_root, split)) for split in ("train", "val", "test")}
    assert counts == {"train": 6, "val": 3, "test": 2}
    readme = (synth_root / "README.md").read_text()
    assert "--seed 3" in readme and all(name in readme for name in CLASSES)
    assert "| train | 6 |" in readme


def test_objects_and_size_buckets(tmp_path: Path) -> None:
    ds = load_dataset(synth.generate(tmp_path / "s", seed=1, train=40, val=0, test=0))
    stats = summarize(ds)
    assert all(1 <= len(s.labels) <= 8 for s in ds.samples)
    assert all(count > 0 for count in stats.per_class.values())
    shares = {bucket: n / stats.objects for bucket, n in stats.buckets.items()}
    # Aimed at about 17% / 45% / 38%; loose bounds keep this small run from flaking.
    assert shares["small"] > 0.07 and shares["medium"] > 0.3 and shares["large"] > 0.2, shares


def test_refuses_to_overwrite(synth_copy: Path) -> None:
    with pytest.raises(DataError, match="not empty"):
        synth.generate(synth_copy, train=1, val=0, test=0)
    synth.generate(synth_copy, seed=9, train=1, val=1, test=0, overwrite=True)
    assert len(load_dataset(synth_copy, "train")) == 1


def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("writer crashed")

    monkeypatch.setattr(synth, "coco_json", broken)
    with pytest.raises(RuntimeError, match="writer crashed"):
        synth.generate(tmp_path / "out", train=2, val=1, test=0)
    assert list(tmp_path.iterdir()) == []


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed"):
        synth.generate(tmp_path / "x", seed=-1, train=1)


@pytest.mark.parametrize("kind", CLASSES)
def test_transform_gives_the_requested_box_area(kind: str) -> None:
    rng = np.random.default_rng(0)
    points = transform(unit_shape(kind, rng), 500.0, 0.7, 1.1)
    extent = points.max(axis=0) - points.min(axis=0)
    assert math.isclose(float(extent[0] * extent[1]), 500.0, rel_tol=1e-9)


def test_clip_polygon() -> None:
    square = np.array([[-5.0, -5.0], [5.0, -5.0], [5.0, 5.0], [-5.0, 5.0]])
    clipped = clip_polygon(square, 20, 20)
    assert polygon_area(clipped) == pytest.approx(25.0)
    assert clipped.min() == 0 and clipped.max() == 5
    assert len(clip_polygon(square - 10, 20, 20)) == 0


def test_boxes_hug_the_drawn_shapes(monkeypatch) -> None:
    """A lone shape on a flat background fills its box edge to edge (within a pixel)."""
    import sdk.data.scene as scene

    monkeypatch.setattr(scene, "OBJECTS_PER_IMAGE", (1, 1))
    monkeypatch.setattr(scene, "MIN_CONTRAST", 200.0)
    for seed in range(20):
        canvas = np.full((360, 480, 3), 128, np.uint8)
        (obj,) = scene._place_objects(canvas, np.random.default_rng(seed))
        ys, xs = np.nonzero(np.abs(canvas.astype(int) - 128).max(axis=2) > 40)
        drawn = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)  # pixel edges
        np.testing.assert_allclose(drawn, obj.box, atol=1.0, err_msg=f"seed {seed}")
