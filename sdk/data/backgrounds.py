"""Backgrounds for synthetic images: crops of real photos and procedural textures.

The photos are the ones bundled inside the scikit-image wheel (``skimage/data/*.png|jpg``).
They are opened straight from the package folder, never through ``skimage.data``'s
fetchers, so nothing is ever downloaded.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Bundled with scikit-image >= 0.19. Left out: test patterns made of shapes (chessboard,
# logo, color, phantom) that would be unlabeled look-alikes of our classes, and tiny images.
PHOTO_FILES: tuple[str, ...] = (
    "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "clock_motion.png",
    "coffee.png", "coins.png", "grass.png", "gravel.png", "horse.png", "hubble_deep_field.jpg",
    "ihc.png", "moon.png", "motorcycle_left.png", "page.png", "retina.jpg", "rocket.jpg",
    "text.png",
)
PHOTO_SHARE = 0.65  # the rest are procedural backgrounds


@functools.lru_cache(maxsize=1)
def photos() -> tuple[tuple[Image.Image, bool], ...]:
    """Load the bundled scikit-image photos as ``(RGB image, was grayscale)`` (cached)."""
    import skimage  # only the synthetic generator needs scikit-image

    folder = Path(skimage.__file__).parent / "data"
    loaded = []
    for name in PHOTO_FILES:
        path = folder / name
        if path.is_file():  # tolerate a scikit-image release that drops one
            with Image.open(path) as image:
                loaded.append((image.convert("RGB"), image.mode in ("L", "LA", "I;16")))
    if not loaded:
        raise FileNotFoundError(f"no background photos found in {folder}")
    return tuple(loaded)


def background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Return a random ``width x height`` RGB background."""
    if rng.random() < PHOTO_SHARE:
        return photo_crop(rng, width, height)
    return procedural(rng, width, height)


def photo_crop(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Crop a random photo region with the target aspect ratio and resize it."""
    library = photos()
    photo, gray = library[int(rng.integers(len(library)))]
    aspect = width / height
    max_w = min(photo.width, photo.height * aspect)
    crop_w = max_w * rng.uniform(0.35, 1.0)
    crop_h = crop_w / aspect
    x0 = rng.uniform(0, photo.width - crop_w)
    y0 = rng.uniform(0, photo.height - crop_h)
    image = photo.resize((width, height), Image.Resampling.BILINEAR,
                         box=(x0, y0, x0 + crop_w, y0 + crop_h))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    if gray and rng.random() < 0.6:
        # Tint grayscale photos so gray backgrounds do not make colour a shortcut feature.
        tint = rng.uniform(0.55, 1.0, size=3)
        image = Image.fromarray((np.asarray(image) * tint).astype(np.uint8))
    return image


def procedural(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A gradient between two colours plus smooth blotches and a finer texture.

    Built at a quarter of the resolution and upsampled, which is both fast and smooth.
    """
    w, h = max(width // 4, 2), max(height // 4, 2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xs / w + np.sin(angle) * ys / h
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    start, end = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    image = start + ramp[..., None] * (end - start)
    for cells, amplitude in ((rng.integers(2, 7), rng.uniform(10, 60)),
                             (rng.integers(8, 40), rng.uniform(0, 25))):
        image += _smooth_noise(rng, cells, w, h) * amplitude
    small = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    return small.resize((width, height), Image.Resampling.BICUBIC)


def _smooth_noise(rng: np.random.Generator, cells: int, width: int, height: int) -> np.ndarray:
    """Return ``[height, width, 3]`` noise in -1..1 that varies over about ``cells`` cells."""
    grid_w = int(cells)
    grid_h = max(int(round(cells * height / width)), 1)
    grid = rng.uniform(0, 255, size=(grid_h, grid_w, 3)).astype(np.uint8)
    smooth = Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(smooth, dtype=np.float32) / 127.5 - 1.0
