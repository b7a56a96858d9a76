"""Image -> model input, and its inverse for boxes. The one function used by training,
evaluation, calibration and every Python runtime (the browser port cites this file).
"""

from __future__ import annotations

import functools
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


def _resized(image: np.ndarray, spec: InputSpec, box: Letterbox) -> np.ndarray:
    """The image part of the model frame: Pillow's antialiased bilinear resize (uint8 HxWx3).

    This resize is the contract: training, evaluation, calibration and the browser port use
    it bit for bit, so a faster but different filter would feed the model other pixels.
    """
    h, w = image.shape[:2]
    size = ((box.input_w, box.input_h) if spec.resize == "stretch"
            else (round(w * box.scale_x), round(h * box.scale_y)))
    if size == (w, h):
        return image  # already at model resolution: Pillow would return the same pixels
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def resize_to_input(image: np.ndarray, spec: InputSpec, box: Letterbox | None = None,
                    ) -> tuple[np.ndarray, Letterbox]:
    """Resize an HxWx3 uint8 RGB image into the model frame; returns uint8 HxWx3 and geometry."""
    h, w = image.shape[:2]
    box = box or fit(w, h, spec)
    resized = _resized(image, spec, box)
    if spec.resize == "stretch":
        return (resized.copy() if resized is image else resized), box  # never the caller's
    canvas = np.full((box.input_h, box.input_w, 3), spec.pad_value, dtype=np.uint8)
    px, py = int(box.pad_x), int(box.pad_y)
    canvas[py:py + resized.shape[0], px:px + resized.shape[1]] = resized
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


def _check_image(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")


def preprocess(image: np.ndarray, spec: InputSpec) -> tuple[np.ndarray, Letterbox]:
    """HxWx3 uint8 RGB image -> [1, H, W, 3] model input and the letterbox geometry."""
    _check_image(image)
    out = np.empty((1, *spec.size, 3), np.dtype(spec.dtype))
    return out, preprocess_into(image, spec, out)


def _normalized_into(pixels: np.ndarray, spec: InputSpec, out: np.ndarray) -> None:
    """``out[...] = normalize(pixels, spec)`` for float32 models, with no temporary array.

    The same float32 operations as :func:`normalize` (uint8 -> float32 is exact, then
    ``- mean`` and ``/ std`` in float32), written straight into ``out``.
    """
    if spec.channel_order == "BGR":
        pixels = pixels[..., ::-1]
    mean, std = np.asarray(spec.mean, np.float32), np.asarray(spec.std, np.float32)
    if (mean == mean[0]).all() and (std == std[0]).all():
        np.subtract(pixels, mean[0], out=out, dtype=np.float32)
        out /= std[0]
        return
    for c in range(3):
        np.subtract(pixels[..., c], mean[c], out=out[..., c], dtype=np.float32)
        out[..., c] /= std[c]


def _fill(out: np.ndarray, pixels: np.ndarray, spec: InputSpec) -> None:
    """Write the model input of uint8 ``pixels`` (HxWx3, any part of the frame) into ``out``."""
    if takes_pixels(spec):
        out[...] = pixels[..., ::-1] if spec.channel_order == "BGR" else pixels
    elif spec.dtype == "float32":
        _normalized_into(pixels, spec, out)
    else:  # quantized integer input: rounding and clipping as normalize() does them
        out[...] = normalize(pixels, spec)


def preprocess_into(image: np.ndarray, spec: InputSpec, out: np.ndarray) -> Letterbox:
    """Write the model input of an HxWx3 uint8 RGB image into ``out``; returns the geometry.

    ``out`` is a writable ``[1, H, W, 3]`` (or ``[H, W, 3]``) array of the spec's dtype,
    typically the inference engine's own input tensor, so a frame costs one resize and one
    pass over the model input: no canvas, no float copy, no copy into the engine. Equal bit
    for bit to :func:`preprocess` (which calls it): the resized pixels are normalized in
    place, and the padding gets the normalized ``pad_value`` (the same float32 operations).
    """
    _check_image(image)
    frame = out[0] if out.ndim == 4 else out
    if frame.shape != (*spec.size, 3) or frame.dtype != np.dtype(spec.dtype):
        raise ValueError(f"output array {out.shape} {out.dtype} does not hold a "
                         f"{spec.size[0]}x{spec.size[1]}x3 {spec.dtype} model input")
    h, w = image.shape[:2]
    box = fit(w, h, spec)
    resized = _resized(image, spec, box)
    if spec.resize == "stretch":
        _fill(frame, resized, spec)
        return box
    px, py = int(box.pad_x), int(box.pad_y)
    rh, rw = resized.shape[:2]
    _fill(frame[py:py + rh, px:px + rw], resized, spec)
    value = _pad_input(spec)
    # Letterbox padding: bands above/below or left/right of the image (one pair is empty).
    # A scalar fill when the channels agree: broadcasting a 3-vector runs numpy's inner
    # loop 3 elements at a time, several times slower.
    uniform = (value == value.flat[0]).all()
    for band in (frame[:py], frame[py + rh:], frame[py:py + rh, :px],
                 frame[py:py + rh, px + rw:]):
        if uniform:
            band.fill(value.flat[0])
        else:
            band[...] = value
    return box


@functools.lru_cache(maxsize=16)
def _pad_input(spec: InputSpec) -> np.ndarray:
    """The model input value of one padding pixel, ``[3]`` of the spec's dtype (read-only)."""
    value = np.empty(3, np.dtype(spec.dtype))
    _fill(value, np.full(3, spec.pad_value, np.uint8), spec)
    value.flags.writeable = False
    return value


def unletterbox_boxes(boxes_norm: np.ndarray, box: Letterbox) -> np.ndarray:
    """Normalized xyxy boxes in the model frame -> pixel xyxy in the original image, clipped."""
    b = boxes_norm.astype(np.float32)  # a copy, computed on in place through column views
    for cols, size, pad, scale, limit in ((b[:, 0::2], box.input_w, box.pad_x, box.scale_x,
                                           box.image_w),
                                          (b[:, 1::2], box.input_h, box.pad_y, box.scale_y,
                                           box.image_h)):
        cols *= size
        cols -= pad
        cols /= scale
        np.clip(cols, 0, limit, out=cols)
    return b


def letterbox_boxes(boxes_px: np.ndarray, box: Letterbox) -> np.ndarray:
    """Pixel xyxy boxes in the original image -> normalized xyxy in the model frame."""
    b = boxes_px.astype(np.float32).copy()
    b[:, [0, 2]] = (b[:, [0, 2]] * box.scale_x + box.pad_x) / box.input_w
    b[:, [1, 3]] = (b[:, [1, 3]] * box.scale_y + box.pad_y) / box.input_h
    return b
