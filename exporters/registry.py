"""Export formats by name, imported lazily (``import exporters`` never imports TensorFlow).

Adding a format = one package (or module) under ``exporters/formats/`` + one line here: its
quantizations, options (CLI flags), budgets and runtime are declared on the class. A test
fails when an :class:`~exporters.formats.base.ExportFormat` subclass is not registered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from exporters.errors import UnsupportedFormatError

if TYPE_CHECKING:  # pragma: no cover
    from exporters.formats.base import ExportFormat, FormatOption

FORMATS: dict[str, str] = {
    "tflite": "exporters.formats.tflite.format:TFLiteFormat",
    "tfjs": "exporters.formats.tfjs.format:TFJSFormat",
    "onnx": "exporters.formats.onnx.format:OnnxFormat",
    "coreml": "exporters.formats.coreml.format:CoreMLFormat",
    "savedmodel": "exporters.formats.savedmodel:SavedModelFormat",
    "mediapipe": "exporters.formats.mediapipe.format:MediaPipeFormat",
}


def format_names() -> tuple[str, ...]:
    """Registered format names, in the order the matrix runs them."""
    return tuple(FORMATS)


def get_format(name: str) -> type[ExportFormat]:
    """The format class registered under ``name``."""
    if name not in FORMATS:
        raise UnsupportedFormatError(name, FORMATS)
    module, attr = FORMATS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def format_options() -> dict[str, list[tuple[str, FormatOption]]]:
    """Every declared format option by name, with the formats declaring it (one CLI flag each).

    Raises:
        TypeError: two formats declare the same option name with different types (one flag
            cannot take both).
    """
    found: dict[str, list[tuple[str, FormatOption]]] = {}
    for name in FORMATS:
        for option in get_format(name).options:
            same = found.setdefault(option.name, [])
            if same and same[0][1].type is not option.type:
                raise TypeError(f"option {option.name}: {same[0][0]} declares it "
                                f"{same[0][1].type.__name__}, {name} {option.type.__name__}")
            same.append((name, option))
    return found
