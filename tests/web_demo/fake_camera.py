"""A fake camera clip for Chromium (``--use-file-for-fake-video-capture``): Y4M, YUV 4:2:0.

Chromium loops the clip; a still scene repeated is enough for a detector and keeps the
expected detections computable: :func:`camera_frame_rgb` is what the page receives.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

# BT.601 limited range: what Chromium's capture pipeline assumes for I420 frames.
_TO_YUV = np.array([[0.257, 0.504, 0.098], [-0.148, -0.291, 0.439], [0.439, -0.368, -0.071]])
_OFFSET = np.array([16.0, 128.0, 128.0])


def to_i420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB uint8 [H, W, 3] (even H and W) -> Y [H, W], U and V [H/2, W/2] planes."""
    yuv = rgb.astype(np.float64) @ _TO_YUV.T + _OFFSET
    h, w = rgb.shape[:2]
    chroma = yuv[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
    planes = [yuv[..., 0], chroma[..., 0], chroma[..., 1]]
    return tuple(np.clip(np.round(p), 0, 255).astype(np.uint8) for p in planes)  # type: ignore[return-value]


def from_i420(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The RGB frame a browser decodes from the planes (chroma upsampled by repetition)."""
    up = [np.repeat(np.repeat(p, 2, axis=0), 2, axis=1) for p in (u, v)]
    yuv = np.stack([y, *up], axis=-1).astype(np.float64) - _OFFSET
    rgb = yuv @ np.linalg.inv(_TO_YUV).T
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def camera_frame(image: Path, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """The sample image resized to the clip's (even) frame size, RGB uint8."""
    with Image.open(image) as im:
        return np.asarray(im.convert("RGB").resize(size, Image.BILINEAR))


def camera_frame_rgb(frame: np.ndarray) -> np.ndarray:
    """What the page sees of ``frame`` after the YUV round trip."""
    return from_i420(*to_i420(frame))


def write_y4m(path: Path, frame: np.ndarray, frames: int = 10, fps: int = 10) -> Path:
    """Write ``frame`` repeated ``frames`` times as a Y4M clip."""
    h, w = frame.shape[:2]
    planes = b"".join(p.tobytes() for p in to_i420(frame))
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + planes)
    return path
