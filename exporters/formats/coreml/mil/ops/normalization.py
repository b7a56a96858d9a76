"""Normalisation ops: ``batch_norm``, ``instance_norm``, ``layer_norm``, ``l2_norm``,
``local_response_norm`` (channel axis 1 where one exists)."""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.ops.registry import axes_of, f32, kernel, per_channel, scalar


@kernel("batch_norm")
def batch_norm(x: np.ndarray, mean: Any, variance: Any, gamma: Any = None, beta: Any = None,
               epsilon: Any = 1e-5) -> np.ndarray:
    x = f32(x)
    out = (x - per_channel(mean, x.ndim)) / np.sqrt(per_channel(variance, x.ndim)
                                                    + f32(epsilon))
    if gamma is not None:
        out = out * per_channel(gamma, x.ndim)
    return out if beta is None else out + per_channel(beta, x.ndim)


@kernel("instance_norm")
def instance_norm(x: np.ndarray, gamma: Any = None, beta: Any = None, epsilon: Any = 1e-5,
                  ) -> np.ndarray:
    x = f32(x)
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + f32(epsilon))
    if gamma is not None:
        out = out * per_channel(gamma, x.ndim)
    return out if beta is None else out + per_channel(beta, x.ndim)


@kernel("layer_norm")
def layer_norm(x: np.ndarray, axes: Any = None, gamma: Any = None, beta: Any = None,
               epsilon: Any = 1e-5) -> np.ndarray:
    """``gamma``/``beta`` have the shape of the normalised (trailing) axes."""
    x = f32(x)
    axes = axes_of(axes, x.ndim) or tuple(range(x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + f32(epsilon))
    if gamma is not None:
        out = out * f32(gamma)
    return out if beta is None else out + f32(beta)


@kernel("l2_norm")
def l2_norm(x: np.ndarray, epsilon: Any = 1e-6) -> np.ndarray:
    """``x / sqrt(sum(x^2) + epsilon)``, the sum over the last three dimensions."""
    x = f32(x)
    axes = tuple(range(x.ndim - 3, x.ndim))
    return x / np.sqrt(np.sum(x * x, axis=axes, keepdims=True) + f32(epsilon))


@kernel("local_response_norm")
def local_response_norm(x: np.ndarray, size: Any, alpha: Any = 1e-4, beta: Any = 0.75,
                        k: Any = 1.0) -> np.ndarray:
    """Across channels: ``x / (k + alpha / size * sum(x^2 over the size-wide window))^beta``."""
    x = f32(x)
    n = int(scalar(size))
    sq = np.pad(x * x, [(0, 0), ((n - 1) // 2, n // 2)] + [(0, 0)] * (x.ndim - 2))
    window = sum(sq[:, i:i + x.shape[1]] for i in range(n))
    return x / (f32(k) + f32(alpha) / n * window) ** f32(beta)
