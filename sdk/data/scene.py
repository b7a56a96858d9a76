"""Render one synthetic image: background, clutter, shapes, photometric jitter.

Everything random comes from the ``rng`` passed in, so one seed gives one image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from sdk.data.backgrounds import background
from sdk.data.shapes import CLASSES, clip_polygon, polygon_area, transform, unit_shape

# Phone-camera-like frames downscaled for a detector: the Fast model's 320 px input sees
# them at 0.6-0.8x, the Accurate model's 448 px input at 0.9-1.1x.
WIDTH_RANGE = (400, 512)
HEIGHT_RANGE = (300, 384)
PORTRAIT_SHARE = 0.12  # swap width and height: letterboxing must handle both orientations
OBJECTS_PER_IMAGE = (2, 8)
# Box-area ranges (px^2) of the COCO buckets and how often each is drawn. Small starts at
# ~12 px (~8 px at Fast's input). Small objects are a sixth of the objects: enough for
# the stride-8 level of Accurate to show, few enough that Fast (smallest anchor 24 px at
# stride 16) is judged mostly on the objects its design can see, as SSD is on COCO.
AREA_RANGES = ((144.0, 1024.0), (1024.0, 9216.0), (9216.0, 48000.0))
BUCKET_SHARE = (0.17, 0.45, 0.38)
MIN_VISIBLE_IN_IMAGE = 0.7  # objects may be cut by the border, but not by more than 30%
MAX_COVERED = 0.5  # a later object may hide at most half of an earlier one
MIN_CONTRAST = 110.0  # RGB distance between fill colour and the mean background under it
PLACEMENT_TRIES = 25


@dataclass(frozen=True)
class SceneObject:
    """One rendered object: class index and exact clipped ``x1, y1, x2, y2`` box."""

    label: int
    box: tuple[float, float, float, float]


def render_scene(rng: np.random.Generator) -> tuple[Image.Image, list[SceneObject]]:
    """Render one image and return it with its objects."""
    width, height = _image_size(rng)
    image = background(rng, width, height)
    _draw_clutter(ImageDraw.Draw(image), rng, width, height, int(rng.integers(0, 7)))
    canvas = np.array(image)
    objects = _place_objects(canvas, rng)
    image = Image.fromarray(canvas)
    if rng.random() < 0.3:  # a thin distractor across objects: boxes keep their full extent
        _draw_clutter(ImageDraw.Draw(image), rng, width, height, 1, max_width=2)
    return _photometric(image, rng), objects


def _image_size(rng: np.random.Generator) -> tuple[int, int]:
    """Return a random ``(width, height)``, landscape most of the time."""
    width = int(rng.integers(WIDTH_RANGE[0], WIDTH_RANGE[1] + 1))
    height = int(rng.integers(HEIGHT_RANGE[0], HEIGHT_RANGE[1] + 1))
    return (height, width) if rng.random() < PORTRAIT_SHARE else (width, height)


def _draw_clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, width: int, height: int,
                  count: int, max_width: int = 4) -> None:
    """Draw lines, open arcs and irregular blobs that are not objects."""
    for _ in range(count):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        line_width = int(rng.integers(1, max_width + 1))
        kind = rng.integers(3) if max_width > 2 else 0
        if kind == 0:
            ends = rng.uniform(0, 1, size=4) * (width, height, width, height)
            draw.line([float(v) for v in ends], fill=colour, width=line_width)
        elif kind == 1:
            cx, cy, radius = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(10, 100)
            start = rng.uniform(0, 360)
            draw.arc((cx - radius, cy - radius, cx + radius, cy + radius), start,
                     start + rng.uniform(60, 250), fill=colour, width=line_width)
        else:
            points = _blob(rng) + rng.uniform(0, 1, size=2) * (width, height)
            draw.polygon([tuple(p) for p in points.tolist()], fill=colour)


def _blob(rng: np.random.Generator) -> np.ndarray:
    """An elongated lumpy outline: unlike any of the six classes."""
    angles = np.linspace(0, 2 * math.pi, 28, endpoint=False)
    radius = np.ones_like(angles)
    for harmonic in (2, 3, 5):
        radius += rng.uniform(0.08, 0.25) * np.sin(harmonic * angles + rng.uniform(0, 6.3))
    size = rng.uniform(8, 60)
    stretch = rng.uniform(1.8, 3.0)
    points = np.stack([radius * np.cos(angles) * size * stretch, radius * np.sin(angles) * size], 1)
    turn = rng.uniform(0, math.pi)
    return points @ np.array([[math.cos(turn), math.sin(turn)], [-math.sin(turn), math.cos(turn)]])


@dataclass(frozen=True)
class _Proposal:
    label: int
    points: np.ndarray  # polygon in image pixels, may extend past the border
    box: tuple[float, float, float, float]  # extent of the polygon clipped to the image
    outline: float  # outline width in pixels, 0 for none


def _place_objects(canvas: np.ndarray, rng: np.random.Generator) -> list[SceneObject]:
    """Draw 1..8 objects onto ``canvas`` (in place) under the visibility rules."""
    height, width = canvas.shape[:2]
    owner = np.full((height, width), -1, dtype=np.int16)  # topmost object per pixel
    full: list[int] = []  # pixels of each object when it was drawn
    visible = np.zeros(0, dtype=np.int64)  # pixels of each object still on top
    objects: list[SceneObject] = []
    for _ in range(int(rng.integers(OBJECTS_PER_IMAGE[0], OBJECTS_PER_IMAGE[1] + 1))):
        for _attempt in range(PLACEMENT_TRIES):
            proposal = _propose(rng, width, height)
            if proposal is None:
                continue
            x0, y0, alpha, band = _rasterize(proposal, width, height)
            hard = alpha >= 0.5
            region = owner[y0:y0 + hard.shape[0], x0:x0 + hard.shape[1]]
            covered = region[hard]
            hidden = np.bincount(covered[covered >= 0], minlength=len(full))
            if not hard.any() or np.any(visible - hidden < (1 - MAX_COVERED) * np.array(full)):
                continue
            _paint(canvas, rng, x0, y0, alpha, band)
            region[hard] = len(objects)
            full.append(int(hard.sum()))
            visible = np.append(visible - hidden, full[-1])
            objects.append(SceneObject(proposal.label, proposal.box))
            break
    return objects


def _propose(rng: np.random.Generator, width: int, height: int) -> _Proposal | None:
    """Draw a random shape and position; None if too much of it falls outside the image."""
    label = int(rng.integers(len(CLASSES)))
    low, high = AREA_RANGES[int(rng.choice(len(AREA_RANGES), p=BUCKET_SHARE))]
    area = math.exp(rng.uniform(math.log(low), math.log(high)))
    aspect = rng.uniform(0.85, 1.18)
    points = transform(unit_shape(CLASSES[label], rng), area, rng.uniform(0, 2 * math.pi), aspect)
    outline = rng.uniform(0.8, 2.0) if rng.random() < 0.35 else 0.0
    low_corner, high_corner = points.min(axis=0), points.max(axis=0)
    size = high_corner - low_corner
    if size.max() > 0.9 * min(width, height):
        return None
    # Let the centre range a bit past the border so some objects are cut by it.
    slack = 0.3 * size
    points = points + rng.uniform(-low_corner - slack, (width, height) - high_corner + slack)
    clipped = points
    if points.min() < 0 or points[:, 0].max() > width or points[:, 1].max() > height:
        clipped = clip_polygon(points, width, height)
        if polygon_area(clipped) < MIN_VISIBLE_IN_IMAGE * polygon_area(points):
            return None
    x1, y1 = clipped.min(axis=0)
    x2, y2 = clipped.max(axis=0)
    if min(x2 - x1, y2 - y1) < 4:
        return None
    return _Proposal(label, points, (float(x1), float(y1), float(x2), float(y2)), outline)


def _rasterize(proposal: _Proposal, width: int, height: int,
               ) -> tuple[int, int, np.ndarray, np.ndarray | None]:
    """Anti-aliased coverage (0..1) over the shape's pixels inside the image, and its outline.

    Returns ``(x0, y0, fill, band)``; ``band`` covers the inner strip along the outline,
    or is None when the object has no outline.
    """
    points = proposal.points
    x0, y0 = (max(int(math.floor(v)), 0) for v in points.min(axis=0))
    x1 = min(int(math.ceil(points[:, 0].max())), width)
    y1 = min(int(math.ceil(points[:, 1].max())), height)
    # Small shapes need more sub-pixels to keep their outline; big ones are costly.
    ss = 4 if max(x1 - x0, y1 - y0) < 64 else 3 if max(x1 - x0, y1 - y0) < 128 else 2
    # Pillow samples pixel i at coordinate i; shift by half a pixel so it samples the
    # pixel centre, making the drawn shape match the continuous box exactly.
    local = [tuple(p) for p in ((points - (x0, y0)) * ss - 0.5).tolist()]
    mask = Image.new("L", ((x1 - x0) * ss, (y1 - y0) * ss), 0)
    ImageDraw.Draw(mask).polygon(local, fill=255)
    band = None
    if proposal.outline > 0:
        stroke = Image.new("L", mask.size, 0)
        ImageDraw.Draw(stroke).line(local + local[:1], fill=255, joint="curve",
                                    width=max(int(2 * proposal.outline * ss), 1))
        # Keep only the half of the stroke inside the shape, so the box stays exact.
        band = _coverage(ImageChops.darker(mask, stroke), ss)
    return x0, y0, _coverage(mask, ss), band


def _coverage(mask: Image.Image, ss: int) -> np.ndarray:
    """Average ``ss x ss`` sub-pixels into a 0..1 float coverage map."""
    reduced = mask.reduce(ss) if ss > 1 else mask
    return np.asarray(reduced, dtype=np.float32) / 255.0


def _paint(canvas: np.ndarray, rng: np.random.Generator, x0: int, y0: int,
           alpha: np.ndarray, band: np.ndarray | None) -> None:
    """Blend a shaded, contrasting fill (and the outline band, if any) into ``canvas``."""
    h, w = alpha.shape
    patch = canvas[y0:y0 + h, x0:x0 + w].astype(np.float32)
    weight = alpha[..., None]
    under = (patch * weight).sum(axis=(0, 1)) / max(float(alpha.sum()), 1e-6)
    colour = _contrasting_colour(rng, under)
    # A soft linear shading across the shape, as if lit from one side.
    angle, strength = rng.uniform(0, 2 * math.pi), rng.uniform(0.0, 0.3)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (math.cos(angle) * xs + math.sin(angle) * ys) / max(h, w) - 0.5
    fill = np.clip(colour * (1.0 + strength * ramp[..., None]), 0, 255)
    patch = patch * (1 - weight) + fill * weight
    if band is not None:
        patch = patch * (1 - band[..., None]) + _outline_colour(colour) * band[..., None]
    canvas[y0:y0 + h, x0:x0 + w] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)


def _contrasting_colour(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    """A random colour at least ``MIN_CONTRAST`` away from ``under`` (or the farthest tried)."""
    best, best_distance = None, -1.0
    for _ in range(16):
        colour = rng.uniform(0, 255, size=3).astype(np.float32)
        distance = float(np.linalg.norm(colour - under))
        if distance >= MIN_CONTRAST:
            return colour
        if distance > best_distance:
            best, best_distance = colour, distance
    return best


def _outline_colour(fill: np.ndarray) -> np.ndarray:
    """Dark outline on light fills, light outline on dark fills."""
    luma = float(fill @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    return np.full(3, 20.0 if luma > 110 else 235.0, dtype=np.float32)


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """Unit Gaussian noise, cropped per image: far cheaper than drawing fresh noise."""
    side = max(WIDTH_RANGE[1], HEIGHT_RANGE[1]) + 64
    return np.random.default_rng(20240601).normal(0, 1, (side, side, 3)).astype(np.float32)


def _photometric(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Apply colour/brightness/contrast/gamma jitter, optional blur, and sensor noise."""
    x = np.arange(256, dtype=np.float64) / 255.0
    gamma = math.exp(rng.uniform(math.log(0.7), math.log(1.4)))
    contrast, brightness = rng.uniform(0.75, 1.25), rng.uniform(0.8, 1.2)
    base = ((x ** gamma - 0.5) * contrast + 0.5) * brightness
    gains = rng.uniform(0.88, 1.12, size=3)
    lut = np.clip(np.concatenate([base * g for g in gains]) * 255.0 + 0.5, 0, 255)
    image = image.point(lut.astype(np.uint8).tolist())
    if rng.random() < 0.15:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    if rng.random() < 0.7:
        bank = _noise_bank()
        w, h = image.size
        oy, ox = rng.integers(0, bank.shape[0] - h + 1), rng.integers(0, bank.shape[1] - w + 1)
        noisy = np.asarray(image, dtype=np.float32) + rng.uniform(1, 6) * bank[oy:oy + h, ox:ox + w]
        image = Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
    return image
