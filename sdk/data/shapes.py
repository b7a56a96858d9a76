"""The six synthetic object classes as polygons, plus the polygon geometry the generator needs.

Every shape is a polygon (a circle is a 48-gon), so the exact bounding box of a rendered
object is the extent of its transformed vertices.
"""

from __future__ import annotations

import math

import numpy as np

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon", "cross")


def _regular(sides: int, start: float) -> np.ndarray:
    """Vertices of a regular polygon with circumradius 1, first vertex at angle ``start``."""
    angles = start + np.arange(sides) * (2 * math.pi / sides)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(inner: float) -> np.ndarray:
    """A five-pointed star: outer radius 1, inner radius ``inner``."""
    angles = math.pi / 2 + np.arange(10) * (math.pi / 5)
    radii = np.where(np.arange(10) % 2 == 0, 1.0, inner)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _cross(half_width: float) -> np.ndarray:
    """A plus sign spanning -1..1 with arms ``2 * half_width`` wide."""
    a, t = 1.0, half_width
    return np.array([(-t, -a), (t, -a), (t, -t), (a, -t), (a, t), (t, t), (t, a), (-t, a),
                     (-t, t), (-a, t), (-a, -t), (-t, -t)])


def unit_shape(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Return ``[V, 2]`` vertices of ``kind`` around the origin, with small per-object variety."""
    if kind == "circle":
        return _regular(48, 0.0)
    if kind == "square":
        return _regular(4, math.pi / 4)
    if kind == "triangle":
        return _regular(3, math.pi / 2)
    if kind == "star":
        return _star(rng.uniform(0.38, 0.5))
    if kind == "hexagon":
        return _regular(6, 0.0)
    if kind == "cross":
        return _cross(rng.uniform(0.24, 0.36))
    raise ValueError(f"unknown shape {kind!r}; expected one of {CLASSES}")


def transform(unit: np.ndarray, box_area: float, angle: float, aspect: float) -> np.ndarray:
    """Stretch by ``aspect``, rotate by ``angle`` (radians), scale to the given box area.

    Scaling after rotating makes the axis-aligned box area exact, which is what the COCO
    small/medium/large buckets are computed from.
    """
    points = unit * np.array([aspect, 1.0 / aspect])
    cos, sin = math.cos(angle), math.sin(angle)
    points = points @ np.array([[cos, sin], [-sin, cos]])
    extent = points.max(axis=0) - points.min(axis=0)
    return points * math.sqrt(box_area / float(extent[0] * extent[1]))


def polygon_area(points: np.ndarray) -> float:
    """Shoelace area of a simple polygon."""
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def clip_polygon(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip a polygon to the rectangle ``[0, width] x [0, height]`` (Sutherland-Hodgman)."""
    # (axis, bound, keep_below): the four half-planes of the image rectangle
    for axis, bound, below in ((0, 0.0, False), (0, width, True),
                               (1, 0.0, False), (1, height, True)):
        if len(points) == 0:
            break
        points = _clip_half_plane(points, axis, bound, below)
    return points


def _clip_half_plane(points: np.ndarray, axis: int, bound: float, below: bool) -> np.ndarray:
    """Keep the part of the polygon with ``p[axis] <= bound`` (or ``>=`` if not ``below``)."""
    out = []
    for i in range(len(points)):
        cur, nxt = points[i], points[(i + 1) % len(points)]
        cur_in = cur[axis] <= bound if below else cur[axis] >= bound
        nxt_in = nxt[axis] <= bound if below else nxt[axis] >= bound
        if cur_in:
            out.append(cur)
        if cur_in != nxt_in:
            t = (bound - cur[axis]) / (nxt[axis] - cur[axis])
            out.append(cur + t * (nxt - cur))
    return np.array(out).reshape(-1, 2)
