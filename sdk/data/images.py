"""Image files: decode to RGB, read sizes cheaply, copy into a new dataset."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sdk.data.errors import data_error

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

# EXIF orientations 5..8 rotate by 90 degrees, so the displayed image has width and
# height swapped relative to the stored pixels.
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = {5, 6, 7, 8}


def is_image(path: Path) -> bool:
    """Return True if the file name has a known image extension."""
    return path.suffix.lower() in IMAGE_EXTENSIONS


def list_images(folder: Path) -> list[Path]:
    """Return the image files under ``folder`` (recursively, following symlinks), sorted.

    A symlinked folder that leads back to one already walked is skipped, so link loops end.
    """
    found: list[Path] = []
    seen: set[str] = set()
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        found.extend(Path(top) / name for name in files if is_image(Path(name)))
    return sorted(found)


def load_image(path: str | Path) -> np.ndarray:
    """Decode an image as ``H x W x 3`` uint8 RGB, applying its EXIF orientation.

    Grayscale, palette, CMYK, RGBA and 16-bit images are converted to 8-bit RGB.

    Raises:
        DataError: the file is missing or cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, None, "image file not found")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            return _to_rgb(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        # Pillow reports truncated/corrupt files as OSError or SyntaxError depending on codec.
        raise data_error(path, None, f"cannot decode image ({exc})") from exc


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # convert("RGB") would clip 16-bit values at 255; rescale instead.
        wide = np.asarray(image, dtype=np.float64)
        peak = max(float(wide.max()), 1.0)
        gray = np.clip(wide * (255.0 / peak), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # avoids Pillow's palette-transparency warning
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def image_size(path: Path, file: str | Path | None = None, entry: str | None = None,
               ) -> tuple[int, int]:
    """Return ``(width, height)`` as displayed (EXIF-rotated), reading only the header.

    Raises:
        DataError: the image is missing or not a readable image; the message names the
            annotation ``file`` and ``entry`` that refer to it when given.
    """
    # Name the annotation file and entry that point at the image, else the image itself.
    owner, named = (file, f" {path}") if file is not None else (path, "")
    if not path.is_file():
        raise data_error(owner, entry, f"image file not found{named}")
    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise data_error(owner, entry, f"unreadable image{named} ({exc})") from exc
    return (height, width) if orientation in _TRANSPOSED else (width, height)


def place_image(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` as a hard link when possible, else as a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # other file system, or links not supported
        shutil.copyfile(src, dst)
