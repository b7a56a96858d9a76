"""Convert a whole dataset (every split) from one layout to another."""

from __future__ import annotations

from pathlib import Path

from sdk.atomic import atomic_dir
from sdk.data.dataset import Dataset
from sdk.data.formats import detect_format, format_module, list_splits, load_dataset


def convert(src: str | Path, dst: str | Path, to: str, overwrite: bool = False,
            ) -> list[Dataset]:
    """Read every split of ``src`` and write it to ``dst`` in format ``to``.

    ``dst`` appears only once all splits are written. Returns the datasets read.

    Raises:
        DataError: ``src`` is invalid, ``to`` is unknown or ``dst`` exists (without overwrite).
    """
    fmt = detect_format(src)
    writer = format_module(to)
    datasets = [load_dataset(src, split, fmt) for split in list_splits(src, fmt)]
    with atomic_dir(dst, overwrite) as tmp:
        for ds in datasets:
            writer.write(ds, tmp, ds.split)
    return datasets
