"""The one exception type for bad detection data."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """A dataset file is missing, malformed or inconsistent.

    The message names the file, the entry (image id, file name or line number) and the
    problem, so a user can open the file and fix it without reading a traceback.
    """


def data_error(file: str | Path, entry: str | None, problem: str) -> DataError:
    """Build a DataError whose message reads ``file: entry: problem``."""
    where = f"{file}: {entry}" if entry else str(file)
    return DataError(f"{where}: {problem}")
