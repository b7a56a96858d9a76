"""``sdk data``: create a synthetic dataset, check a dataset, convert between layouts.

Only click is imported at module level; numpy, Pillow, rich and scikit-image are imported
by the sub-command that needs them, so ``sdk --help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

    from sdk.data import Dataset
    from sdk.data.stats import DatasetStats

FORMAT_NAMES = ("coco", "yolo", "voc")  # mirrors sdk.data.formats.FORMATS (a test checks)
LAYOUT_NAMES = ("roboflow", "standard")  # mirrors sdk.data.layout.WRITE_LAYOUTS (a test checks)


@click.group("data")
def data() -> None:
    """Create, convert and check detection datasets (COCO, YOLO, VOC)."""


@data.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--train", default=3000, show_default=True, type=click.IntRange(min=0),
              help="Training images.")
@click.option("--val", default=300, show_default=True, type=click.IntRange(min=0),
              help="Validation images.")
@click.option("--test", default=500, show_default=True, type=click.IntRange(min=0),
              help="Test images.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes; the output does not depend on it.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
def synth(out: Path, seed: int, train: int, val: int, test: int, workers: int,
          overwrite: bool) -> None:
    """Generate the deterministic synthetic shapes dataset (COCO layout)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from sdk.data import DataError
    from sdk.data.synth import generate

    started = time.perf_counter()
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns) as bar:
            task = bar.add_task("rendering", total=train + val + test)
            generate(out, seed=seed, train=train, val=val, test=test, workers=workers,
                     overwrite=overwrite,
                     progress=lambda done, _total: bar.update(task, completed=done))
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    seconds = time.perf_counter() - started
    click.echo(f"wrote {train + val + test} images to {out} in {seconds:.1f} s")


@data.command()
@click.argument("root", type=click.Path(path_type=Path))
@click.option("--split", default=None, help="Only this split (default: every split found).")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", *FORMAT_NAMES]))
@click.option("--images", type=click.Path(path_type=Path), default=None,
              help="Image folder of a COCO annotation file given as ROOT.")
def check(root: Path, split: str | None, fmt: str, images: Path | None) -> None:
    """Load a dataset, validate every file, and print its statistics.

    ROOT is a dataset folder (COCO, YOLO or VOC, Roboflow or standard layout), a COCO
    annotation .json file or a YOLO data .yaml file.
    """
    from rich.console import Console
    from rich.markup import escape

    from sdk.data import DataError, list_splits, load_dataset
    from sdk.data.stats import summarize

    try:
        splits = [split] if split else list_splits(root, fmt)
        if not splits:
            raise DataError(f"{root}: no splits found")
        datasets = [load_dataset(root, name, fmt, images) for name in splits]
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    console = Console()
    layouts = ", ".join(dict.fromkeys(ds.layout for ds in datasets))
    console.print(escape(f"{root}: {datasets[0].format}, {layouts} layout"), soft_wrap=True)
    for ds in datasets:
        console.print(escape(f"  {ds.split}: {ds.source}"), soft_wrap=True)
    console.print(_stats_table(root, datasets, [summarize(ds) for ds in datasets]))


def _stats_table(root: Path, datasets: list[Dataset], stats: list[DatasetStats]) -> Table:
    """Build a rich table with one column per split."""
    from rich.table import Table

    from sdk.data.stats import MEDIUM_MAX_AREA, SMALL_MAX_AREA

    table = Table(title=f"{root} ({datasets[0].format})")
    table.add_column("")
    for ds in datasets:
        table.add_column(ds.split, justify="right")
    rows = [("images", [s.images for s in stats]), ("objects", [s.objects for s in stats]),
            ("images without objects", [s.empty_images for s in stats]),
            ("ignored (crowd, difficult)", [s.ignored for s in stats])]
    rows += [(f"class {name}", [s.per_class[name] for s in stats])
             for name in datasets[0].classes]
    rows += [(f"small (< {int(SMALL_MAX_AREA ** 0.5)}^2 px)", [s.buckets["small"] for s in stats]),
             ("medium", [s.buckets["medium"] for s in stats]),  # between the two
             (f"large (> {int(MEDIUM_MAX_AREA ** 0.5)}^2 px)", [s.buckets["large"] for s in stats])]
    for label, values in rows:
        table.add_row(label, *(str(v) for v in values))
    return table


@data.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--to", "to", required=True, type=click.Choice(FORMAT_NAMES),
              help="Output format.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--layout", default="roboflow", show_default=True, type=click.Choice(LAYOUT_NAMES),
              help="roboflow: <split>/... folders as Roboflow exports them; standard: COCO "
                   "annotations/instances_<split>.json, Ultralytics images/<split> + "
                   "labels/<split>, or a VOC devkit folder.")
@click.option("--images", type=click.Path(path_type=Path), default=None,
              help="Image folder of a COCO annotation file given as SRC.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output folder.")
def convert(src: Path, to: str, out: Path, layout: str, images: Path | None,
            overwrite: bool) -> None:
    """Convert every split of SRC (any supported layout) to another format and layout."""
    from sdk.data import DataError
    from sdk.data.convert import convert as convert_dataset

    try:
        datasets = convert_dataset(src, out, to, overwrite=overwrite, layout=layout,
                                   images=images)
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = ", ".join(f"{ds.split}: {len(ds)} images" for ds in datasets)
    click.echo(f"converted {datasets[0].format} -> {to} ({layout}) into {out} ({summary})")
    ignored = sum(len(s.ignore_boxes) for ds in datasets for s in ds.samples)
    if ignored and to == "yolo":
        click.echo(f"note: YOLO has no crowd/difficult flag; {ignored} ignore regions "
                   f"(crowd, difficult) were not written")
