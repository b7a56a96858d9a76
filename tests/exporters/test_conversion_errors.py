"""Converter failures become ConversionError naming the op or layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.errors import ConversionError
from exporters.formats.base import conversion_error


@pytest.mark.parametrize(("message", "culprit"), [
    ("loc(fused[...]): error: 'tf.Igamma' op is neither a custom op nor a flex op", "tf.Igamma"),
    ("Unsupported Ops in the model before optimization\nIgamma, Lgamma", "Igamma, Lgamma"),
    ("Conversion for TF op 'Igamma' not implemented.\n \nname: ...", "Igamma"),
    ("Exception encountered when calling layer 'head0_box' (type Conv2D)", "head0_box"),
])
def test_the_culprit_is_named(message: str, culprit: str):
    error = conversion_error("tflite", ValueError(message))
    assert isinstance(error, ConversionError)
    assert str(error).startswith(f"tflite conversion failed at {culprit}: ")


def test_without_a_culprit_the_first_line_is_kept():
    assert str(conversion_error("tfjs", RuntimeError("\nout of memory\nmore"))) == (
        "tfjs conversion failed: out of memory")


@pytest.mark.slow
def test_an_op_tflite_lacks_is_reported_by_name(tmp_path: Path):
    import tensorflow as tf

    from exporters.formats.tflite.format import TFLiteFormat
    from exporters.source import ExportSource
    from sdk.spec import DetectorSpec, InputSpec

    module = tf.Module()
    module.serve = tf.function(
        lambda images: {"boxes": tf.math.igamma(images[:, :1, :4, 0], 2.0),
                        "scores": tf.reduce_mean(images, axis=[1, 2])[:, None, :]},
        input_signature=[tf.TensorSpec([None, 8, 8, 3], tf.float32, name="images")])
    tf.saved_model.save(module, str(tmp_path / "sm"),
                        signatures={"serving_default": module.serve.get_concrete_function()})
    spec = DetectorSpec(input=InputSpec(size=(8, 8)), labels=("a", "b", "c"))
    source = ExportSource("odd", spec, tmp_path / "sm", reference=lambda x: x)
    with pytest.raises(ConversionError, match=r"tflite conversion failed at tf\.Igamma"):
        TFLiteFormat().convert(source, tmp_path, "fp32", None)
