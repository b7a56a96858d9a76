"""Training batches: decoded images kept in memory, augmented in numpy, targets per anchor.

Augmentation changes only the letterbox geometry (scale/offset jitter), flips and colours;
the pixels then go through :func:`sdk.preprocess.normalize`, the same function every
runtime uses, so train and inference preprocessing cannot drift apart.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sdk.anchors import Matcher, build_targets, generate_anchors
from sdk.data import Dataset, load_image
from sdk.models.config import DetectorConfig
from sdk.preprocess import Letterbox, fit, letterbox_boxes, normalize, resize_to_input


@dataclass(frozen=True)
class Augment:
    """Augmentation strengths; ``Augment.none()`` gives the plain inference letterbox."""

    zoom: tuple[float, float] = (0.6, 1.5)
    flip: float = 0.5
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.3

    @classmethod
    def none(cls) -> Augment:
        return cls(zoom=(1.0, 1.0), flip=0.0, brightness=0.0, contrast=0.0, saturation=0.0)


def _jitter_geometry(w: int, h: int, cfg: DetectorConfig, aug: Augment,
                     rng: np.random.Generator) -> Letterbox:
    base = fit(w, h, cfg.input_spec)
    z = float(np.exp(rng.uniform(*np.log(aug.zoom))))
    scale = base.scale_x * z
    new_w, new_h = w * scale, h * scale
    # place anywhere such that the image still covers the centre region or the canvas
    pad_x = rng.uniform(min(0.0, base.input_w - new_w), max(0.0, base.input_w - new_w))
    pad_y = rng.uniform(min(0.0, base.input_h - new_h), max(0.0, base.input_h - new_h))
    return Letterbox(scale, scale, pad_x, pad_y, base.input_w, base.input_h, w, h)


def _render(image: np.ndarray, box: Letterbox, pad_value: int) -> np.ndarray:
    """Draw ``image`` into the input canvas with an arbitrary scale and offset (crop allowed)."""
    # an affine resample handles both zoom-out (padding) and zoom-in (cropping) in one call
    sx, sy = box.scale_x, box.scale_y
    inv = (1 / sx, 0, -box.pad_x / sx, 0, 1 / sy, -box.pad_y / sy)
    pil = Image.fromarray(image).transform(
        (box.input_w, box.input_h), Image.AFFINE, inv, Image.BILINEAR,
        fillcolor=(pad_value,) * 3)
    return np.asarray(pil)


def _colour(pixels: np.ndarray, aug: Augment, rng: np.random.Generator) -> np.ndarray:
    x = pixels.astype(np.float32)
    if aug.saturation:
        grey = x.mean(-1, keepdims=True)
        x = grey + (x - grey) * rng.uniform(1 - aug.saturation, 1 + aug.saturation)
    if aug.contrast:
        x = (x - x.mean()) * rng.uniform(1 - aug.contrast, 1 + aug.contrast) + x.mean()
    if aug.brightness:
        x = x * rng.uniform(1 - aug.brightness, 1 + aug.brightness)
    return np.clip(x, 0, 255).astype(np.uint8)


def augment_sample(image: np.ndarray, boxes: np.ndarray, labels: np.ndarray, cfg: DetectorConfig,
                   aug: Augment, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """One image -> (uint8 input pixels, normalized xyxy boxes, labels) after augmentation."""
    h, w = image.shape[:2]
    if aug == Augment.none():
        pixels, box = resize_to_input(image, cfg.input_spec)
    else:
        box = _jitter_geometry(w, h, cfg, aug, rng)
        pixels = _colour(_render(image, box, cfg.input_spec.pad_value), aug, rng)
    nb = letterbox_boxes(boxes, box) if len(boxes) else np.zeros((0, 4), np.float32)
    area = (nb[:, 2] - nb[:, 0]) * (nb[:, 3] - nb[:, 1])
    nb = np.clip(nb, 0.0, 1.0)
    kept = (nb[:, 2] - nb[:, 0]) * (nb[:, 3] - nb[:, 1])
    # drop objects mostly cropped away or shrunk below ~2 input pixels
    ok = (kept > 0.4 * np.maximum(area, 1e-12)) & ((nb[:, 2] - nb[:, 0]) * box.input_w > 2) \
        & ((nb[:, 3] - nb[:, 1]) * box.input_h > 2)
    nb, lb = nb[ok], labels[ok]
    if rng.random() < aug.flip:
        pixels = pixels[:, ::-1]
        nb = np.stack([1 - nb[:, 2], nb[:, 1], 1 - nb[:, 0], nb[:, 3]], -1) if len(nb) else nb
    return np.ascontiguousarray(pixels), nb.astype(np.float32), lb


class BatchStream:
    """Infinite shuffled stream of (inputs, box targets, class targets) batches.

    Images are decoded once and kept in memory; a background thread prepares the next
    batches while the model trains (PIL and numpy release the GIL for the heavy parts).
    """

    def __init__(self, dataset: Dataset, cfg: DetectorConfig, batch_size: int,
                 seed: int | list[int],
                 aug: Augment | None = None, prefetch: int = 3,
                 shard: tuple[int, int] = (0, 1)):
        """``batch_size`` is the global batch; with ``shard=(i, n)`` (worker i of n) the
        stream yields this worker's ``batch_size / n`` images of each global batch: every
        worker draws the same shuffle (same seed) and its own augmentations."""
        index, count = shard
        if batch_size % count:
            raise ValueError(f"batch size {batch_size} does not split over {count} workers")
        self.cfg, self.batch_size, self.aug = cfg, batch_size, aug or Augment()
        self.shard = (index, count)
        self.images = [load_image(s.image_path) for s in dataset.samples]
        self.samples = dataset.samples
        self.anchors = generate_anchors(cfg.levels, cfg.input_size)
        self.matcher = Matcher(cfg.matcher_positive, cfg.matcher_negative)
        self.rng = np.random.default_rng(seed)
        # one worker draws shuffles and augmentations from one stream, as before sharding
        self.aug_rng = self.rng if count == 1 else np.random.default_rng(
            [*np.atleast_1d(seed).tolist(), 1 << 20, index])
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._thread = threading.Thread(target=self._fill, daemon=True)
        self._thread.start()

    def _make(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs, bts, cts = [], [], []
        for i in indices:
            s = self.samples[i]
            pixels, nb, lb = augment_sample(self.images[i], s.boxes, s.labels, self.cfg,
                                            self.aug, self.aug_rng)
            bt, ct = build_targets(self.anchors, self.matcher, nb, lb)
            xs.append(normalize(pixels, self.cfg.input_spec))
            bts.append(bt)
            cts.append(ct)
        return np.stack(xs), np.stack(bts), np.stack(cts)

    def _fill(self) -> None:
        n, (index, count) = len(self.samples), self.shard
        local = self.batch_size // count
        while True:
            order = self.rng.permutation(n)
            for start in range(0, n - self.batch_size + 1, self.batch_size):
                first = start + index * local
                self._queue.put(self._make(order[first:first + local]))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        while True:
            yield self._queue.get()

    @staticmethod
    def steps_for(dataset: Dataset, batch_size: int) -> int:
        """Full batches per epoch (the stream drops the remainder of each shuffle)."""
        return max(1, len(dataset.samples) // batch_size)
