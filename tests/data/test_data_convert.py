"""``convert`` between every layout: boxes within 0.5 px, every class name, ignore regions."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdk.data import DataError, detect_format, list_splits, load_dataset, write_dataset
from sdk.data.convert import convert
from sdk.data.layout import match_split
from tests.data.builders import LAYOUT_BUILDERS, SPLITS, expected

TARGETS = [(fmt, layout) for fmt in ("coco", "yolo", "voc") for layout in ("roboflow",
                                                                            "standard")]
# What each written layout reads back as (Dataset.layout starts with it).
READ_AS = {("coco", "roboflow"): "Roboflow", ("coco", "standard"): "official",
           ("yolo", "roboflow"): "Roboflow", ("yolo", "standard"): "Ultralytics",
           ("voc", "roboflow"): "Roboflow", ("voc", "standard"): "devkit"}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hand-written dataset in every layout (read-only)."""
    base = tmp_path_factory.mktemp("sources")
    return {name: build(base / name.replace(" ", "_")) for name, build in LAYOUT_BUILDERS.items()}


@pytest.mark.parametrize(("fmt", "layout"), TARGETS)
@pytest.mark.parametrize("source", sorted(LAYOUT_BUILDERS))
def test_convert_every_layout_to_every_layout(sources: dict[str, Path], tmp_path: Path,
                                              source: str, fmt: str, layout: str) -> None:
    out = tmp_path / "out"
    datasets = convert(sources[source], out, fmt, layout=layout)
    assert detect_format(out) == fmt
    # the same splits (YOLO's data.yaml spells valid and train2017 as val and train)
    assert len(list_splits(out)) == len(list_splits(sources[source]))
    assert all(match_split(split, list_splits(out)) for split in list_splits(sources[source]))
    # YOLO holds no crowd/difficult flag: ignore regions survive unless YOLO is involved
    keeps_ignore = fmt != "yolo" and not source.startswith("yolo")
    for ds in datasets:
        if ds.split == "trainval":  # the devkit's union of train and val
            assert len(load_dataset(out, ds.split)) == 4
            continue
        back = load_dataset(out, ds.split)  # by the source's split name
        assert back.layout.startswith(READ_AS[fmt, layout]), back.layout
        expected(back, with_ignore=keeps_ignore)


@pytest.mark.parametrize("chain", [("yolo", "voc", "coco"), ("voc", "coco", "yolo"),
                                   ("coco", "yolo", "voc")])
def test_round_trip_through_standard_and_roboflow_layouts(sources: dict[str, Path],
                                                          tmp_path: Path, chain) -> None:
    current = sources["coco official"]
    for step, fmt in enumerate(chain):
        layout = ("standard", "roboflow")[step % 2]
        convert(current, tmp_path / str(step), fmt, layout=layout)
        current = tmp_path / str(step)
    for split in list_splits(current):
        expected(load_dataset(current, split), with_ignore="yolo" not in chain)


def test_standard_writers_refuse_an_existing_split(sources: dict[str, Path],
                                                   tmp_path: Path) -> None:
    ds = load_dataset(sources["coco official"], "val")
    for fmt in ("coco", "yolo", "voc"):
        root = tmp_path / fmt
        write_dataset(ds, root, fmt, layout="standard")
        with pytest.raises(DataError, match="already exists"):
            write_dataset(ds, root, fmt, layout="standard")
        write_dataset(ds, root, fmt, layout="standard", overwrite=True)
        expected(load_dataset(root, ds.split), "val")


def test_devkit_writer_shares_images_between_splits(sources: dict[str, Path],
                                                    tmp_path: Path) -> None:
    out = tmp_path / "voc"
    convert(sources["voc devkit"], out, "voc", layout="standard")
    images = sorted(p.name for p in (out / "JPEGImages").iterdir())
    assert images == sorted(img.name for imgs in SPLITS.values() for img in imgs)
    assert (out / "ImageSets" / "Main" / "trainval.txt").read_text().split() == [
        "a", "b", "c", "d"]


def test_devkit_writer_renames_a_different_image_with_the_same_stem(
        sources: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "voc"
    train = load_dataset(sources["coco official"], "train")
    write_dataset(train, root, "voc", "train", layout="standard")
    write_dataset(train, root, "voc", "again", layout="standard")  # same files: shared
    other = load_dataset(sources["coco roboflow"], "train")  # same names, other files
    write_dataset(other, root, "voc", "copy", layout="standard")
    listed = (root / "ImageSets" / "Main" / "copy.txt").read_text().split()
    assert listed == ["copy_a", "copy_b", "copy_c"]
    assert (root / "ImageSets" / "Main" / "again.txt").read_text().split() == ["a", "b", "c"]
    copy = load_dataset(root, "copy")
    assert sorted(s.image_path.name for s in copy.samples) == ["copy_a.jpg", "copy_b.png",
                                                               "copy_c.jpg"]


def test_convert_rejects_an_unknown_layout(sources: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown layout 'darknet'"):
        convert(sources["coco official"], tmp_path / "x", "yolo", layout="darknet")
    assert not (tmp_path / "x").exists()
