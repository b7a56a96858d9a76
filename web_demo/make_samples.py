"""Render the bundled sample images, shown when there is no camera.

``python -m web_demo.make_samples`` rewrites ``web_demo/static/samples/*.jpg`` from the
synthetic dataset generator, deterministically. Re-run it only when the generator changes.
The benchmark does not use them: its probe images are :func:`sdk.probes.synthetic_probes`
(see :mod:`web_demo.probes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sdk.data.scene import SceneObject, render_scene
from web_demo.assets import SAMPLES_DIR

SEED = 2024
COUNT = 4
PORTRAIT_SLOT = 3  # one portrait image: the overlay and letterbox must handle both
JPEG_QUALITY = 85
MIN_AREA = 32 * 32  # objects big enough to be seen on a phone screen


def _good(objects: list[SceneObject]) -> bool:
    """A sample worth showing: several objects of several classes, most not tiny."""
    big = [o for o in objects if (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) >= MIN_AREA]
    return len(big) >= 3 and len({o.label for o in objects}) >= 3


def _candidates() -> Iterator[tuple[int, object, bool]]:
    """(index, image, is_portrait) of acceptable scenes, in generation order."""
    for index in range(10_000):
        image, objects = render_scene(np.random.default_rng([SEED, index]))
        if _good(objects):
            yield index, image, image.height > image.width


def render_samples(out: Path = SAMPLES_DIR, count: int = COUNT) -> list[Path]:
    """Write ``count`` sample JPEGs into ``out`` (one portrait) and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jpg"):
        old.unlink()
    written: list[Path] = []
    for _index, image, portrait in _candidates():
        if portrait != (len(written) == PORTRAIT_SLOT):
            continue
        path = out / f"sample-{len(written) + 1}.jpg"
        image.save(path, "JPEG", quality=JPEG_QUALITY)
        written.append(path)
        if len(written) == count:
            break
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in render_samples():
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
