"""Export formats by name, imported lazily (``import exporters`` never imports TensorFlow).

Adding a format = one module under ``exporters/formats/`` + one line here; a test fails
when an :class:`~exporters.formats.base.ExportFormat` subclass is not registered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from exporters.errors import UnsupportedFormatError

if TYPE_CHECKING:  # pragma: no cover
    from exporters.formats.base import ExportFormat

FORMATS: dict[str, str] = {
    "tflite": "exporters.formats.tflite:TFLiteFormat",
    "tfjs": "exporters.formats.tfjs:TFJSFormat",
    "coreml": "exporters.formats.coreml:CoreMLFormat",
    "savedmodel": "exporters.formats.savedmodel:SavedModelFormat",
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
