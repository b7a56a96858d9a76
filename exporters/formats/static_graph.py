"""The graph every converter starts from: the staged SavedModel with a static input shape.

Converters given the staged SavedModel keep its dynamic batch (``[-1, H, W, 3]``), which
LiteRT.js refuses and GPU delegates and NPUs handle poorly. :func:`serving_function` wraps
its ``serving_default`` in a ``tf.function`` whose input is ``[1, H, W, 3]``; the frozen
graph is traced once more, so the weights are shared, not copied.

With ``uint8_input`` the wrapper takes the letterboxed RGB pixels as uint8 and applies
``(pixel - mean) / std`` in the graph: the runtimes then hand the pixels over as they are
(no float conversion, a 4x smaller input copy). The artifact's ``detector.json`` says so
in the contract's own terms (:func:`raw_pixel_spec`), so every runtime feeds it correctly
without knowing about the option.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from exporters.formats.base import FormatOption
from sdk.spec import DetectorSpec, InputSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet

UINT8_INPUT = FormatOption(
    "uint8_input", bool, False,
    "uint8 pixels in, normalized in the graph (detector.json: dtype uint8, mean 0, std 1)")


def serving_function(saved_model: Path, spec: InputSpec, uint8_input: bool = False,
                     ) -> tuple[Any, Any]:
    """``(tf.function, trackable)``: ``serving_default`` with input ``[1, H, W, 3]``.

    The function has one input signature (input named ``spec.name``) and its outputs keep
    the SavedModel's names (``boxes``, ``scores``). The trackable (the loaded SavedModel)
    must stay alive while the function is converted.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model))
    serve = loaded.signatures["serving_default"]
    (arg,) = serve.structured_input_signature[1]  # the SavedModel's input name
    h, w = spec.size
    dtype = tf.uint8 if uint8_input else tf.float32
    signature = [tf.TensorSpec([1, h, w, 3], dtype, name=spec.name)]
    mean, std = np.asarray(spec.mean, np.float32), np.asarray(spec.std, np.float32)
    if (mean == mean[0]).all() and (std == std[0]).all():
        # Scalars: a per-channel constant broadcasts over an innermost axis of 3, which
        # XNNPACK runs ~10x slower (the same trap sdk.preprocess.normalize avoids in numpy).
        mean, std = mean[0], std[0]

    @tf.function(input_signature=signature)
    def static(images: Any) -> Any:
        if uint8_input:
            # The same float32 operations as sdk.preprocess.normalize, in the same order.
            # The constants are made inside the function: eager tensors would be captured
            # as extra graph inputs, which tf2onnx turns into model inputs.
            images = (tf.cast(images, tf.float32) - tf.constant(mean)) / tf.constant(std)
        return serve(**{arg: images})

    return static, loaded


def raw_pixel_spec(spec: DetectorSpec) -> DetectorSpec:
    """The ``detector.json`` of a ``uint8_input`` artifact made from a float ``spec``.

    In the contract's terms the model now sees ``(pixel - 0) / 1`` quantized with scale 1
    and zero point 0: the pixels themselves. The normalization the graph applies is kept
    in ``provenance.input_normalization`` for readers.
    """
    inp = spec.input
    moved = {"mean": list(inp.mean), "std": list(inp.std), "applied": "in the graph"}
    return spec.with_input(dtype="uint8", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                           quant_scale=1.0, quant_zero_point=0).with_provenance(
        input_normalization=moved)


def calibration_pixels(calib: CalibrationSet, spec: InputSpec) -> np.ndarray:
    """The uint8 pixels behind float calibration inputs normalized with ``spec``.

    Exact: the inputs are ``(pixel - mean) / std`` of integer pixels in float32, so
    ``x * std + mean`` is within far less than 0.5 of the pixel.
    """
    mean, std = np.asarray(spec.mean, np.float64), np.asarray(spec.std, np.float64)
    pixels = np.rint(calib.inputs.astype(np.float64) * std + mean)
    return np.clip(pixels, 0, 255).astype(np.uint8)
