"""Ops that move or select elements (reshape, slicing, padding, gathering, sorting...) against
numpy and TensorFlow; results must be exact (no arithmetic happens)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.exporters.coreml_mil.programs import compile_program, random

X = random((2, 6, 4, 4), seed=5)
IDX = np.array([[2, 0], [5, -1]], np.int32)  # gather indices, a negative one included


def _cases(mb):
    def first(x, n):  # x[:, :n]
        return mb.slice_by_size(x=x, begin=[0, 0, 0, 0], size=[-1, n, -1, -1])

    return {
        "reshape_minus1": (lambda x: mb.reshape(x=x, shape=[2, -1, 8]),
                           lambda x: x.reshape(2, -1, 8)),
        "reshape_keep0": (lambda x: mb.reshape(x=x, shape=[0, 3, 0, 8]),
                          lambda x: x.reshape(2, 3, 4, 8)),
        "transpose": (lambda x: mb.transpose(x=x, perm=[0, 2, 3, 1]),
                      lambda x: x.transpose(0, 2, 3, 1)),
        "concat": (lambda x: mb.concat(values=[x, first(x, 2)], axis=1),
                   lambda x: np.concatenate([x, x[:, :2]], 1)),
        "concat_interleave": (lambda x: mb.concat(values=[x, mb.mul(x=x, y=2.0)], axis=2,
                                                  interleave=True),
                              lambda x: np.stack([x, 2 * x], 3).reshape(2, 6, 8, 4)),
        "stack": (lambda x: mb.stack(values=[x, x], axis=-1), lambda x: np.stack([x, x], -1)),
        "split_even_1": (lambda x: mb.split(x=x, num_splits=3, axis=1)[1],
                         lambda x: np.split(x, 3, 1)[1]),
        "split_sizes_2": (lambda x: mb.split(x=x, split_sizes=[1, 2, 3], axis=1)[2],
                          lambda x: x[:, 3:]),
        "squeeze": (lambda x: mb.squeeze(x=first(x, 1), axes=[1]), lambda x: x[:, 0]),
        "expand_dims": (lambda x: mb.expand_dims(x=mb.squeeze(x=first(x, 1), axes=[1]),
                                                 axes=[0, -1]),
                        lambda x: x[None, :, 0, ..., None]),
        "flatten2d": (lambda x: mb.flatten2d(x=x, axis=2), lambda x: x.reshape(12, 16)),
        "slice_stride": (lambda x: mb.slice_by_index(x=x, begin=[0, 1, 0, 3], end=[2, 6, 4, 0],
                                                     stride=[1, 2, 1, -1]),
                         lambda x: x[0:2, 1:6:2, 0:4, 3:0:-1]),
        "slice_masks": (lambda x: mb.slice_by_index(
            x=x, begin=[1, -3, 0, 0], end=[0, 0, 2, 4], begin_mask=[False, False, True, False],
            end_mask=[True, True, False, False], squeeze_mask=[False, False, False, True]),
            lambda x: x[1:, -3:, :2, 0]),
        "slice_reverse_masked": (lambda x: mb.slice_by_index(
            x=x, begin=[0, 0, 0, 0], end=[0, 0, 0, 0], stride=[1, -1, 1, -2],
            begin_mask=[True] * 4, end_mask=[True] * 4), lambda x: x[:, ::-1, :, ::-2]),
        "slice_by_size": (lambda x: mb.slice_by_size(x=x, begin=[0, 2, 1, 0], size=[2, -1, 2, 3]),
                          lambda x: x[:, 2:, 1:3, 0:3]),
        "tile": (lambda x: mb.tile(x=x, reps=[1, 2, 1, 3]), lambda x: np.tile(x, (1, 2, 1, 3))),
        "pad_constant": (lambda x: mb.pad(x=x, pad=[1, 2, 0, 3], mode="constant",
                                          constant_val=-1.5),
                         lambda x: np.pad(x, [(0, 0), (0, 0), (1, 2), (0, 3)],
                                          constant_values=-1.5)),
        "pad_reflect": (lambda x: mb.pad(x=x, pad=[2, 1, 3, 0], mode="reflect"),
                        lambda x: np.pad(x, [(0, 0), (0, 0), (2, 1), (3, 0)], mode="reflect")),
        "pad_replicate": (lambda x: mb.pad(x=x, pad=[0, 0, 1, 2, 2, 1], mode="replicate"),
                          lambda x: np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)], mode="edge")),
        "reverse": (lambda x: mb.reverse(x=x, axes=[1, -1]), lambda x: x[:, ::-1, :, ::-1]),
        "gather": (lambda x: mb.gather(x=x, indices=IDX, axis=1),
                   lambda x: np.take(x, np.where(IDX < 0, IDX + 6, IDX), 1)),
        "gather_batch_dims": (lambda x: mb.gather(x=x, indices=np.array([[1, 0], [3, 3]],
                                                                        np.int32),
                                                  axis=1, batch_dims=1),
                              lambda x: np.stack([x[0, [1, 0]], x[1, [3, 3]]])),
        "gather_along_axis": (lambda x: mb.gather_along_axis(
            x=x, indices=np.argsort(X, axis=2).astype(np.int32), axis=2),
            lambda x: np.sort(x, axis=2)),
        "gather_nd": (lambda x: mb.gather_nd(x=x, indices=np.array([[1, 2], [0, 5]], np.int32)),
                      lambda x: np.stack([x[1, 2], x[0, 5]])),
        "depth_to_space": (lambda x: mb.depth_to_space(x=first(x, 4), block_size=2),
                           lambda x: _tf_nchw("depth_to_space", x[:, :4], 2)),
        "space_to_depth": (lambda x: mb.space_to_depth(x=x, block_size=2),
                           lambda x: _tf_nchw("space_to_depth", x, 2)),
        "pixel_shuffle": (lambda x: mb.pixel_shuffle(x=first(x, 4), upscale_factor=2),
                          lambda x: _pixel_shuffle(x[:, :4], 2)),
        "pixel_unshuffle": (lambda x: mb.pixel_unshuffle(x=x, downscale_factor=np.uint32(2)),
                            lambda x: _pixel_unshuffle(x, 2)),
        "topk_values": (lambda x: mb.topk(x=x, k=3, axis=1)[0],
                        lambda x: -np.sort(-x, axis=1)[:, :3]),
        "topk_indices": (lambda x: mb.topk(x=x, k=3, axis=1, ascending=True)[1],
                         lambda x: np.argsort(x, axis=1, kind="stable")[:, :3]),
        "argsort": (lambda x: mb.argsort(x=x, axis=-1), lambda x: np.argsort(-x, axis=-1)),
        "cumsum_exclusive_reverse": (
            lambda x: mb.cumsum(x=x, axis=1, exclusive=True, reverse=True),
            lambda x: np.flip(np.cumsum(np.flip(x, 1), 1), 1) - x),
        "band_part": (lambda x: mb.band_part(x=x, lower=1, upper=0),
                      lambda x: np.tril(np.triu(x, -1), 0)),
        "shape": (lambda x: mb.shape(x=x), lambda x: np.array(x.shape)),
        "fill_like": (lambda x: mb.fill_like(ref_tensor=x, value=2.5),
                      lambda x: np.full(x.shape, 2.5)),
        "one_hot": (lambda x: mb.one_hot(indices=mb.reduce_argmax(x=x, axis=1),
                                         one_hot_vector_size=6, axis=1),
                    lambda x: np.moveaxis(np.eye(6)[x.argmax(1)], -1, 1)),
    }


def _tf_nchw(op: str, x: np.ndarray, block: int) -> np.ndarray:
    import tensorflow as tf

    fn = tf.nn.depth_to_space if op == "depth_to_space" else tf.nn.space_to_depth
    return fn(x.transpose(0, 2, 3, 1), block).numpy().transpose(0, 3, 1, 2)


def _pixel_shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """PyTorch's definition, written out element by element."""
    n, c, h, w = x.shape
    out = np.empty((n, c // (r * r), h * r, w * r), x.dtype)
    for ch in range(c):
        i, j = divmod(ch % (r * r), r)
        out[:, ch // (r * r), i::r, j::r] = x[:, ch]
    return out


def _pixel_unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    n, c, h, w = x.shape
    out = np.empty((n, c * r * r, h // r, w // r), x.dtype)
    for ch in range(c * r * r):
        i, j = divmod(ch % (r * r), r)
        out[:, ch] = x[:, ch // (r * r), i::r, j::r]
    return out


def _names() -> list[str]:
    class _Recorder:
        def __getattr__(self, name):
            return lambda **kw: None

    return sorted(_cases(_Recorder()))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory):
    from coremltools.converters.mil import Builder as mb

    cases = _cases(mb)
    program = compile_program(lambda x: {n: make(x) for n, (make, _) in cases.items()},
                              {"x": X.shape}, tmp_path_factory.mktemp("mil") / "t.mlpackage")
    out = program.run({"x": X})
    return {name: (out[name], ref(X)) for name, (_, ref) in cases.items()}, program


@pytest.mark.parametrize("name", _names())
def test_op_matches_reference(results, name: str):
    got, want = results[0][name]
    assert got.shape == np.shape(want), name
    np.testing.assert_array_equal(got, np.asarray(want).astype(got.dtype), err_msg=name)


def test_the_program_holds_each_op(results):
    program = results[1]
    for op in ("slice_by_index", "slice_by_size", "gather_nd", "pixel_shuffle", "band_part",
               "one_hot", "topk", "argsort", "cumsum", "reverse", "tile", "pad", "split"):
        assert program.op_types[op], op


def test_range_and_fill(tmp_path):
    from coremltools.converters.mil import Builder as mb

    def build(n):
        return {"range": mb.range_1d(start=1.0, end=mb.reduce_sum(x=n), step=0.5),
                "fill": mb.fill(shape=np.array([2, 3], np.int32), value=7.0)}

    program = compile_program(build, {"n": (2,)}, tmp_path / "r.mlpackage",
                              expect_ops=("range_1d", "fill"))
    out = program.run({"n": np.array([1.5, 2.0], np.float32)})
    np.testing.assert_array_equal(out["range"], np.arange(1.0, 3.5, 0.5))
    np.testing.assert_array_equal(out["fill"], np.full((2, 3), 7.0))
