"""A deterministic synthetic COCO dataset: six geometric shape classes on real photos.

This is the dataset the bundled Fast and Accurate detectors are trained on. Each image is
drawn from its own random stream ``(seed, split, index)``, so the output is byte-identical
for a seed whatever the number of workers, and any image can be re-rendered alone.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sdk.atomic import atomic_dir
from sdk.data.coco import ANNOTATIONS, ImageEntry, coco_json
from sdk.data.scene import AREA_RANGES, HEIGHT_RANGE, OBJECTS_PER_IMAGE, WIDTH_RANGE, render_scene
from sdk.data.shapes import CLASSES
from sdk.data.stats import BUCKETS, summarize_objects

SPLITS = ("train", "val", "test")
JPEG_QUALITY = 90  # fixed quality (and no optimizer pass) keeps files byte-identical per seed
GENERATOR_VERSION = 2  # bump whenever a change alters the pixels or boxes for a given seed

Progress = Callable[[int, int], None]  # (images done, images total)


def generate(out: str | Path, seed: int = 0, train: int = 3000, val: int = 300,
             test: int = 500, workers: int = 1, progress: Progress | None = None,
             overwrite: bool = False) -> Path:
    """Write the synthetic dataset to ``out`` (COCO layout, splits train/val/test).

    The dataset is built in a temporary sibling folder and renamed to ``out`` at the end,
    so ``out`` is either complete or absent.

    Raises:
        ValueError: a count or the seed is negative, or workers < 1.
        DataError: ``out`` exists and is not empty, and ``overwrite`` is False.
    """
    counts = {"train": train, "val": val, "test": test}
    if seed < 0 or workers < 1 or min(counts.values()) < 0:
        raise ValueError(f"need seed >= 0, workers >= 1 and counts >= 0; got seed={seed}, "
                         f"workers={workers}, counts={counts}")
    out = Path(out)
    with atomic_dir(out, overwrite) as tmp:
        jobs = []
        for split_index, split in enumerate(SPLITS):
            (tmp / split).mkdir()
            jobs += [(seed, split_index, i, str(tmp / split)) for i in range(counts[split])]
        entries = _render_all(jobs, workers, progress)
        per_split: dict[str, list[ImageEntry]] = {split: [] for split in SPLITS}
        for (_, split_index, _, _), entry in zip(jobs, entries, strict=True):
            per_split[SPLITS[split_index]].append(entry)
        for split, split_entries in per_split.items():
            info = {"description": "sdk synthetic shapes", "version": str(GENERATOR_VERSION),
                    "seed": seed, "split": split}
            (tmp / split / ANNOTATIONS).write_text(coco_json(CLASSES, split_entries, info),
                                                   encoding="utf-8")
        (tmp / "README.md").write_text(_readme(seed, per_split), encoding="utf-8")
    return out


def _render_all(jobs: list[tuple[int, int, int, str]], workers: int,
                progress: Progress | None) -> list[ImageEntry]:
    """Render every job, in order, in this process or in a pool."""
    total = len(jobs)
    if workers == 1 or total < 2:
        results = map(render_image, jobs)
        return [_tick(entry, i, total, progress) for i, entry in enumerate(results)]
    # spawn, not fork: the caller may have TensorFlow loaded, which does not survive a fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        results = pool.map(render_image, jobs, chunksize=16)
        return [_tick(entry, i, total, progress) for i, entry in enumerate(results)]


def _tick(entry: ImageEntry, index: int, total: int, progress: Progress | None) -> ImageEntry:
    if progress is not None:
        progress(index + 1, total)
    return entry


def render_image(job: tuple[int, int, int, str]) -> ImageEntry:
    """Render image ``index`` of split ``split_index`` for ``seed`` into ``folder``."""
    seed, split_index, index, folder = job
    image, objects = render_scene(np.random.default_rng([seed, split_index, index]))
    name = f"{index:06d}.jpg"
    image.save(Path(folder) / name, "JPEG", quality=JPEG_QUALITY)
    boxes = np.array([o.box for o in objects], dtype=np.float64).reshape(-1, 4)
    labels = np.array([o.label for o in objects], dtype=np.int64)
    return name, image.width, image.height, boxes, labels


def _readme(seed: int, per_split: dict[str, list[ImageEntry]]) -> str:
    """Describe the dataset: classes, sizes, seed, counts per split and size bucket."""
    rows = []
    for split, entries in per_split.items():
        stats = summarize_objects(CLASSES, ((e[3], e[4]) for e in entries))
        buckets = " | ".join(str(stats.buckets[b]) for b in BUCKETS)
        rows.append(f"| {split} | {stats.images} | {stats.objects} | {buckets} |")
    (w_lo, w_hi), (h_lo, h_hi) = WIDTH_RANGE, HEIGHT_RANGE
    sides = [int(a**0.5) for pair in AREA_RANGES for a in pair]
    return "\n".join([
        "# Synthetic shapes dataset",
        "",
        f"Generated by `sdk data synth --seed {seed}` (generator version {GENERATOR_VERSION}).",
        "The same seed and version give byte-identical images and annotations.",
        "",
        f"* Classes ({len(CLASSES)}): {', '.join(CLASSES)}.",
        f"* Layout: COCO as exported by Roboflow, `<split>/{ANNOTATIONS}` with JPEG images "
        f"(quality {JPEG_QUALITY}) beside it; category ids 1..{len(CLASSES)}.",
        f"* Images: {w_lo}..{w_hi} x {h_lo}..{h_hi} px, some portrait (sides swapped).",
        f"* Objects: {OBJECTS_PER_IMAGE[0]}..{OBJECTS_PER_IMAGE[1]} per image, box sides about "
        f"{sides[0]}..{sides[-1]} px, rotated, partly occluded (at most half hidden) or cut by "
        "the border (at least 70% visible); boxes are the exact extent of the visible polygon.",
        "* Backgrounds: crops of the photos bundled with scikit-image, and procedural textures;",
        "  distractor lines, arcs and blobs; colour, gamma, blur and noise jitter.",
        "",
        "| split | images | objects | small | medium | large |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Size buckets use COCO's thresholds (32^2, 96^2 px) on the box area.",
        "Background photos: see `skimage/data/README.txt` for their sources and licences.",
        "",
    ])
