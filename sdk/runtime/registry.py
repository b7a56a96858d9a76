"""The Python runtime's inference engines by name, imported lazily.

Adding an engine = one module under ``sdk/runtime/`` with a :class:`~sdk.runtime.backends.
Backend` subclass + one line here; a test fails when a subclass is not registered. Model
location (``sdk.load``), opening, ``sdk bench`` (its ``--format`` choices and the report's
``runtime`` section) all ask this registry. Order matters: when a folder holds models of
several engines, the first engine listed wins (a ``.tflite`` needs no TensorFlow).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sdk.runtime.backends import Backend

ENGINES: dict[str, str] = {
    "tflite": "sdk.runtime.tflite:TFLiteBackend",
    "onnx": "sdk.runtime.onnx:OnnxBackend",
    "savedmodel": "sdk.runtime.savedmodel:SavedModelBackend",
}


def engine_names() -> tuple[str, ...]:
    """Registered engine names, in order of preference."""
    return tuple(ENGINES)


def get_engine(name: str) -> type[Backend]:
    """The engine class registered under ``name``.

    Raises:
        KeyError: no such engine (the message lists the registered ones).
    """
    if name not in ENGINES:
        raise KeyError(f"unknown runtime engine {name!r}; registered: {', '.join(ENGINES)}")
    module, attr = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), attr)


def engines() -> tuple[type[Backend], ...]:
    """Every engine class, in order of preference."""
    return tuple(get_engine(name) for name in ENGINES)


def runnable_formats() -> tuple[str, ...]:
    """Export formats the Python runtime runs (``sdk bench --format`` choices)."""
    return tuple(dict.fromkeys(fmt for engine in engines() for fmt in engine.formats))


def engine_for_format(fmt: str) -> type[Backend] | None:
    """The first engine that runs export format ``fmt`` (None: none does)."""
    return next((engine for engine in engines() if fmt in engine.formats), None)


def engine_for_path(path: Path) -> type[Backend] | None:
    """The first engine that opens ``path`` (a model file or folder), None if none does."""
    return next((engine for engine in engines() if engine.opens(path)), None)


def runnable_artifacts() -> str:
    """What the engines open, for error messages: ``a .tflite file or a folder with ...``."""
    return " or ".join(engine.artifact() for engine in engines())
