"""Image -> model input, and its inverse for boxes. The one function used by training,
evaluation, calibration and every Python runtime (the browser port cites this file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from sdk.spec import InputSpec


@dataclass(frozen=True)
class Letterbox:
    """Where the original image sits inside the model input frame."""

    scale_x: float  # model pixels per original pixel (equal to scale_y for letterbox)
    scale_y: float
    pad_x: float  # left padding, model pixels
    pad_y: float  # top padding, model pixels
    input_w: int
    input_h: int
    image_w: int
    image_h: int


def fit(image_w: int, image_h: int, spec: InputSpec) -> Letterbox:
    """Compute the letterbox (or stretch) geometry for an image of this size."""
    in_h, in_w = spec.size
    if spec.resize == "stretch":
        return Letterbox(in_w / image_w, in_h / image_h, 0.0, 0.0, in_w, in_h, image_w, image_h)
    scale = min(in_w / image_w, in_h / image_h)
    new_w, new_h = round(image_w * scale), round(image_h * scale)
    pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
    return Letterbox(scale, scale, pad_x, pad_y, in_w, in_h, image_w, image_h)


def resize_to_input(image: np.ndarray, spec: InputSpec, box: Letterbox | None = None,
                    ) -> tuple[np.ndarray, Letterbox]:
    """Resize an HxWx3 uint8 RGB image into the model frame; returns uint8 HxWx3 and geometry."""
    h, w = image.shape[:2]
    box = box or fit(w, h, spec)
    pil = Image.fromarray(image)
    if spec.resize == "stretch":
        return np.asarray(pil.resize((box.input_w, box.input_h), Image.BILINEAR)), box
    new_w, new_h = round(w * box.scale_x), round(h * box.scale_y)
    canvas = np.full((box.input_h, box.input_w, 3), spec.pad_value, dtype=np.uint8)
    resized = np.asarray(pil.resize((new_w, new_h), Image.BILINEAR))
    px, py = int(box.pad_x), int(box.pad_y)
    canvas[py:py + new_h, px:px + new_w] = resized
    return canvas, box


def takes_pixels(spec: InputSpec) -> bool:
    """True when the model input is the letterboxed uint8 pixels unchanged."""
    return (spec.dtype == "uint8" and spec.quant_scale == 1 and spec.quant_zero_point == 0
            and all(m == 0 for m in spec.mean) and all(s == 1 for s in spec.std))


def normalize(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 NHWC/HWC pixels -> the dtype the model expects (float or quantized int).

    ``(pixel - mean) / std`` in float32, then quantized for integer inputs. Computed in
    place on one fresh float32 copy with scalar constants (per channel when they differ):
    bit for bit the same float32 operations as broadcasting ``mean``/``std`` arrays, but
    numpy runs a broadcast over a last axis of 3 with an inner loop of 3 elements (~10x
    slower at 320 px), and each extra multi-MB temporary per call can make glibc trim and
    re-fault the heap (benchmarks/runtime_overhead.py).

    A model that takes the pixels themselves (uint8, mean 0, std 1, scale 1, zero point 0:
    normalization inside the graph) gets ``pixels`` back without any arithmetic: the general
    path would round ``p / 1 + 0`` back to ``p``.
    """
    if takes_pixels(spec):
        return np.ascontiguousarray(pixels[..., ::-1]) if spec.channel_order == "BGR" else pixels
    x = np.array(pixels[..., ::-1] if spec.channel_order == "BGR" else pixels, np.float32,
                 order="C")
    mean, std = np.asarray(spec.mean, np.float32), np.asarray(spec.std, np.float32)
    if (mean == mean[0]).all() and (std == std[0]).all():
        x -= mean[0]
        x /= std[0]
    else:
        for c in range(3):
            x[..., c] -= mean[c]
            x[..., c] /= std[c]
    if spec.dtype == "float32":
        return x
    info = np.iinfo(np.dtype(spec.dtype))
    x /= spec.quant_scale
    x += spec.quant_zero_point
    np.round(x, out=x)
    np.clip(x, info.min, info.max, out=x)
    return x.astype(spec.dtype)


def preprocess(image: np.ndarray, spec: InputSpec) -> tuple[np.ndarray, Letterbox]:
    """HxWx3 uint8 RGB image -> [1, H, W, 3] model input and the letterbox geometry."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")
    pixels, box = resize_to_input(image, spec)
    return normalize(pixels, spec)[None], box


def unletterbox_boxes(boxes_norm: np.ndarray, box: Letterbox) -> np.ndarray:
    """Normalized xyxy boxes in the model frame -> pixel xyxy in the original image, clipped."""
    b = boxes_norm.astype(np.float32).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] * box.input_w - box.pad_x) / box.scale_x
    b[:, [1, 3]] = (b[:, [1, 3]] * box.input_h - box.pad_y) / box.scale_y
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, box.image_w)
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, box.image_h)
    return b


def letterbox_boxes(boxes_px: np.ndarray, box: Letterbox) -> np.ndarray:
    """Pixel xyxy boxes in the original image -> normalized xyxy in the model frame."""
    b = boxes_px.astype(np.float32).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] * box.scale_x + box.pad_x) / box.input_w
    b[:, [1, 3]] = (b[:, [1, 3]] * box.scale_y + box.pad_y) / box.input_h
    return b
