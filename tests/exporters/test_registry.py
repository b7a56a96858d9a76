"""Registry completeness and format declarations (no conversion, no TensorFlow)."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys

import pytest

import exporters.formats
from exporters.errors import UnsupportedFormatError
from exporters.formats.base import ExportFormat
from exporters.parity import DEFAULT_BUDGETS
from exporters.registry import FORMATS, format_names, get_format

HEAVY = ("tensorflow", "keras", "coremltools", "tensorflowjs", "jax", "ai_edge_litert")


def _defined_format_classes() -> set[type]:
    found = set()
    for info in pkgutil.iter_modules(exporters.formats.__path__):
        module = importlib.import_module(f"exporters.formats.{info.name}")
        found |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, ExportFormat) and cls is not ExportFormat
                  and cls.__module__ == module.__name__}
    return found


def test_every_format_class_is_registered():
    registered = {get_format(name) for name in FORMATS}
    missing = _defined_format_classes() - registered
    assert not missing, f"ExportFormat subclasses missing from FORMATS: {missing}"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_declarations_are_consistent(name):
    cls = get_format(name)
    assert cls.name == name
    assert cls.quantizations and cls.default_quantization == cls.quantizations[0]
    variants = set(cls.quantizations) | set(cls.fallbacks.values())
    assert variants <= set(cls.budget_class), "every variant needs a parity budget class"
    assert set(cls.budget_class.values()) <= set(DEFAULT_BUDGETS)
    assert cls.calibrated <= variants and set(cls.fallbacks) <= set(cls.quantizations)


def test_unknown_format_lists_the_valid_ones():
    with pytest.raises(UnsupportedFormatError, match="valid formats: tflite, tfjs, coreml"):
        get_format("onnx")
    assert format_names() == tuple(FORMATS)


def test_registry_and_cli_import_no_heavy_library():
    probe = ("import sys, json, exporters.registry, exporters.cli\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert not set(HEAVY) & set(json.loads(out))
