"""Convert a whole dataset (every split) from one layout to another."""

from __future__ import annotations

from pathlib import Path

from sdk.atomic import atomic_dir
from sdk.data.dataset import Dataset
from sdk.data.formats import detect_format, format_module, list_splits, load_dataset
from sdk.data.layout import check_layout


def convert(src: str | Path, dst: str | Path, to: str, overwrite: bool = False,
            layout: str = "roboflow", images: str | Path | None = None) -> list[Dataset]:
    """Read every split of ``src`` and write it to ``dst`` in format ``to``.

    ``layout`` is ``roboflow`` or ``standard`` (see :func:`sdk.data.write_dataset`);
    ``images`` is the image folder of a COCO annotation file given as ``src``. ``dst``
    appears only once all splits are written. Returns the datasets read.

    Raises:
        DataError: ``src`` is invalid, ``to`` or ``layout`` is unknown or ``dst`` exists
            (without overwrite).
    """
    check_layout(layout)
    fmt = detect_format(src)
    writer = format_module(to)
    datasets = [load_dataset(src, split, fmt, images) for split in list_splits(src, fmt)]
    with atomic_dir(dst, overwrite) as tmp:
        for ds in datasets:
            writer.write(ds, tmp, ds.split, layout=layout)
    return datasets
