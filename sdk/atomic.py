"""All-or-nothing output folders and files: build beside the target, rename at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from sdk.data.errors import data_error


def _sibling(target: Path, tag: str) -> Path:
    """Return an unused hidden sibling name (created with normal permissions, unlike mkdtemp)."""
    return target.with_name(f".{target.name}.{tag}-{uuid.uuid4().hex[:8]}")


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


@contextlib.contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    The temporary folder is a sibling of ``target`` so the final rename stays on one file
    system. On any exception it is removed and ``target`` is left untouched.

    Raises:
        DataError: ``target`` is a non-empty folder (or a file) and ``overwrite`` is False.
    """
    target = Path(target).absolute()
    if target.exists() and not overwrite and (target.is_file() or _is_nonempty_dir(target)):
        raise data_error(target, None, "already exists and is not empty (pass overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(target, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``; the old ``target`` is deleted only after the move."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.replace(tmp, target)
        return
    old = _sibling(target, "old")
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file through a temporary sibling and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
