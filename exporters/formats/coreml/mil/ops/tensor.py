"""MIL ops that move, select or build tensor elements: reshape, transpose, concat, slicing,
padding, tiling, gathering, sorting and the like."""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.formats.coreml.mil.errors import Unsupported
from exporters.formats.coreml.mil.ops.registry import (
    axes_of,
    ensure_list,
    f32,
    ints,
    kernel,
    scalar,
)


@kernel("reshape", selects=True)
def reshape(x: np.ndarray, shape: Any) -> np.ndarray:
    x = np.asarray(x)
    target = list(ints(shape))
    if len(target) == x.ndim:  # 0 copies the input dimension (only when the ranks match)
        target = [x.shape[i] if d == 0 else d for i, d in enumerate(target)]
    return x.reshape(target)


@kernel("transpose", selects=True)
def transpose(x: np.ndarray, perm: Any) -> np.ndarray:
    return np.transpose(x, ints(perm))


@kernel("concat", selects=True)
def concat(values: list, axis: Any, interleave: Any = False) -> np.ndarray:
    values = ensure_list(values)
    axis = int(scalar(axis))
    if not scalar(interleave):
        return np.concatenate(values, axis=axis)
    # interleave: out[i::n] = values[i] along axis (all inputs have the same shape)
    stacked = np.stack(values, axis=(axis % values[0].ndim) + 1)
    shape = list(values[0].shape)
    shape[axis] *= len(values)
    return stacked.reshape(shape)


@kernel("stack", selects=True)
def stack(values: list, axis: Any) -> np.ndarray:
    return np.stack(ensure_list(values), axis=int(scalar(axis)))


@kernel("split", selects=True)
def split(x: np.ndarray, axis: Any, num_splits: Any = None, split_sizes: Any = None,
          ) -> tuple[np.ndarray, ...]:
    axis = int(scalar(axis))
    if split_sizes is not None:
        cuts = np.cumsum(ints(split_sizes))[:-1]
        return tuple(np.split(x, cuts, axis=axis))
    return tuple(np.split(x, int(scalar(num_splits)), axis=axis))


@kernel("squeeze", selects=True)
def squeeze(x: np.ndarray, axes: Any = None) -> np.ndarray:
    x = np.asarray(x)
    return np.squeeze(x) if axes is None else np.squeeze(x, axis=axes_of(axes, x.ndim))


@kernel("expand_dims", selects=True)
def expand_dims(x: np.ndarray, axes: Any) -> np.ndarray:
    return np.expand_dims(x, ints(axes))


@kernel("flatten2d", selects=True)
def flatten2d(x: np.ndarray, axis: Any = 1) -> np.ndarray:
    x = np.asarray(x)
    axis = int(scalar(axis)) % (x.ndim + 1) if x.ndim else 0
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


@kernel("slice_by_index", selects=True)
def slice_by_index(x: np.ndarray, begin: Any, end: Any, stride: Any = None,
                   begin_mask: Any = None, end_mask: Any = None, squeeze_mask: Any = None,
                   ) -> np.ndarray:
    x = np.asarray(x)
    rank = x.ndim
    starts: list[int | None] = list(ints(begin))
    stops: list[int | None] = list(ints(end))
    steps = list(ints(stride)) if stride is not None else [1] * rank
    masks = [np.zeros(rank, bool) if m is None else np.asarray(m, bool).reshape(-1)
             for m in (begin_mask, end_mask, squeeze_mask)]
    index = []
    for i in range(rank):
        start = None if masks[0][i] else starts[i]
        if masks[2][i]:  # one element at ``begin``, dimension dropped afterwards
            index.append(slice(start, None, np.iinfo(np.int32).max))
            continue
        index.append(slice(start, None if masks[1][i] else stops[i], steps[i]))
    out = x[tuple(index)]
    dropped = tuple(i for i in range(rank) if masks[2][i])
    return np.squeeze(out, axis=dropped) if dropped else out


@kernel("slice_by_size", selects=True)
def slice_by_size(x: np.ndarray, begin: Any, size: Any) -> np.ndarray:
    x = np.asarray(x)
    index = tuple(slice(b % x.shape[i] if x.shape[i] else 0,
                        None if s == -1 else (b % x.shape[i] if x.shape[i] else 0) + s)
                  for i, (b, s) in enumerate(zip(ints(begin), ints(size), strict=True)))
    return x[index]


@kernel("tile", selects=True)
def tile(x: np.ndarray, reps: Any) -> np.ndarray:
    return np.tile(x, ints(reps))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


@kernel("pad", selects=True)
def pad(x: np.ndarray, pad: Any, mode: str = "constant", constant_val: Any = 0.0) -> np.ndarray:
    x = np.asarray(x)
    amounts = ints(pad)
    n = len(amounts) // 2  # the last n dimensions are padded
    widths = [(0, 0)] * (x.ndim - n) + [(amounts[2 * i], amounts[2 * i + 1]) for i in range(n)]
    if mode not in _PAD_MODES:
        raise Unsupported(f"pad mode {mode!r}")
    if mode == "constant":
        return np.pad(x, widths, constant_values=scalar(constant_val))
    return np.pad(x, widths, mode=_PAD_MODES[mode])


@kernel("reverse", selects=True)
def reverse(x: np.ndarray, axes: Any = None) -> np.ndarray:
    x = np.asarray(x)
    return np.flip(x, axis=axes_of(axes, x.ndim))


@kernel("gather", selects=True)
def gather(x: np.ndarray, indices: Any, axis: Any = 0, batch_dims: Any = 0,
           validate_indices: Any = False) -> np.ndarray:
    x = np.asarray(x)
    axis, batch = int(scalar(axis)) % x.ndim, int(scalar(batch_dims))
    idx = _wrap_negative(indices, x.shape[axis])
    if batch == 0:
        return np.take(x, idx, axis=axis)
    # batch_dims > 0: the leading dimensions of x and indices are matched, not gathered
    flat_x = x.reshape((-1,) + x.shape[batch:])
    flat_i = idx.reshape((-1,) + idx.shape[batch:])
    parts = [np.take(flat_x[b], flat_i[b], axis=axis - batch) for b in range(flat_x.shape[0])]
    return np.stack(parts).reshape(x.shape[:batch] + parts[0].shape)


def _wrap_negative(indices: Any, size: int) -> np.ndarray:
    """Negative indices count from the end (MIL allows them in the gather ops)."""
    idx = np.asarray(indices).astype(np.int64)
    return np.where(idx < 0, idx + size, idx)


@kernel("gather_along_axis", selects=True)
def gather_along_axis(x: np.ndarray, indices: Any, axis: Any = 0,
                      validate_indices: Any = False) -> np.ndarray:
    x = np.asarray(x)
    axis = int(scalar(axis))
    return np.take_along_axis(x, _wrap_negative(indices, x.shape[axis]), axis=axis)


@kernel("gather_nd", selects=True)
def gather_nd(x: np.ndarray, indices: Any, batch_dims: Any = 0,
              validate_indices: Any = False) -> np.ndarray:
    if int(scalar(batch_dims)) != 0:
        raise Unsupported("gather_nd with batch_dims > 0")
    x, idx = np.asarray(x), np.asarray(indices).astype(np.int64)
    return x[tuple(np.moveaxis(idx, -1, 0))]


@kernel("shape")
def shape(x: np.ndarray) -> np.ndarray:
    return np.array(np.shape(x), np.int32)


@kernel("fill")
def fill(shape: Any, value: Any = 0.0) -> np.ndarray:
    return np.full(ints(shape), scalar(value))


@kernel("fill_like")
def fill_like(ref_tensor: np.ndarray, value: Any = 0.0) -> np.ndarray:
    return np.full(np.shape(ref_tensor), scalar(value))


@kernel("range_1d")
def range_1d(end: Any, start: Any, step: Any) -> np.ndarray:
    return np.arange(scalar(start), scalar(end), scalar(step))


@kernel("depth_to_space", selects=True)
def depth_to_space(x: np.ndarray, block_size: Any) -> np.ndarray:
    """DCR order, as TensorFlow's DepthToSpace: channel (i*b + j)*C' + c -> (c, h*b+i, w*b+j)."""
    b = int(scalar(block_size))
    n, c, h, w = np.shape(x)
    y = np.reshape(x, (n, b, b, c // (b * b), h, w)).transpose(0, 3, 4, 1, 5, 2)
    return y.reshape(n, c // (b * b), h * b, w * b)


@kernel("space_to_depth", selects=True)
def space_to_depth(x: np.ndarray, block_size: Any) -> np.ndarray:
    """Inverse of :func:`depth_to_space` (TensorFlow's SpaceToDepth)."""
    b = int(scalar(block_size))
    n, c, h, w = np.shape(x)
    y = np.reshape(x, (n, c, h // b, b, w // b, b)).transpose(0, 3, 5, 1, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)


@kernel("pixel_shuffle", selects=True)
def pixel_shuffle(x: np.ndarray, upscale_factor: Any) -> np.ndarray:
    """CRD order, as PyTorch: channel c*b*b + i*b + j -> (c, h*b+i, w*b+j)."""
    b = int(scalar(upscale_factor))
    n, c, h, w = np.shape(x)
    y = np.reshape(x, (n, c // (b * b), b, b, h, w)).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


@kernel("pixel_unshuffle", selects=True)
def pixel_unshuffle(x: np.ndarray, downscale_factor: Any) -> np.ndarray:
    b = int(scalar(downscale_factor))
    n, c, h, w = np.shape(x)
    y = np.reshape(x, (n, c, h // b, b, w // b, b)).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)


@kernel("topk", selects=True)
def topk(x: np.ndarray, k: Any = 1, axis: Any = -1, ascending: Any = False, sort: Any = True,
         return_indices: Any = True, output_indices_dtype: Any = "int32",
         ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Ties keep the lower index first (a stable sort)."""
    x = np.asarray(x)
    axis, k = int(scalar(axis)), int(scalar(k))
    keys = x if scalar(ascending) else -f32(x)
    order = np.argsort(keys, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis)
    values = np.take_along_axis(x, idx, axis=axis)
    return (values, idx.astype(np.int32)) if scalar(return_indices) else values


@kernel("argsort")
def argsort(x: np.ndarray, axis: Any = -1, ascending: Any = False) -> np.ndarray:
    keys = np.asarray(x) if scalar(ascending) else -f32(x)
    return np.argsort(keys, axis=int(scalar(axis)), kind="stable").astype(np.int32)


@kernel("cumsum")
def cumsum(x: np.ndarray, axis: Any = 0, exclusive: Any = False, reverse: Any = False,
           ) -> np.ndarray:
    x = np.asarray(x)
    axis = int(scalar(axis))
    if scalar(reverse):
        x = np.flip(x, axis)
    out = np.cumsum(x, axis=axis)
    if scalar(exclusive):
        out = out - x
    return np.flip(out, axis) if scalar(reverse) else out


@kernel("band_part", selects=True)
def band_part(x: np.ndarray, lower: Any = -1, upper: Any = -1) -> np.ndarray:
    x = np.asarray(x)
    rows, cols = x.shape[-2:]
    i, j = np.arange(rows)[:, None], np.arange(cols)[None, :]
    lo, up = int(scalar(lower)), int(scalar(upper))
    keep = ((lo < 0) | (i - j <= lo)) & ((up < 0) | (j - i <= up))
    return np.where(keep, x, np.zeros((), x.dtype))


@kernel("one_hot")
def one_hot(indices: Any, one_hot_vector_size: Any, axis: Any = -1, on_value: Any = 1,
            off_value: Any = 0) -> np.ndarray:
    idx = np.asarray(indices).astype(np.int64)
    depth = int(scalar(one_hot_vector_size))
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, scalar(on_value), scalar(off_value))
    return np.moveaxis(out, -1, int(scalar(axis)) % out.ndim)
