"""Registry completeness and format declarations (no conversion, no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import exporters.formats
from exporters.errors import UnsupportedFormatError
from exporters.formats.base import ExportFormat
from exporters.parity import DEFAULT_BUDGETS
from exporters.registry import FORMATS, format_names, get_format
from tests.core.subclasses import defined_subclasses

HEAVY = ("tensorflow", "keras", "coremltools", "tensorflowjs", "jax", "ai_edge_litert")


def _defined_format_classes() -> set[type]:
    """Every ExportFormat subclass defined in a module under exporters/formats/ (recursive)."""
    return defined_subclasses(exporters.formats, ExportFormat)


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
    with pytest.raises(UnsupportedFormatError, match="valid formats: tflite, tfjs, onnx, coreml"):
        get_format("pytorch")
    assert format_names() == tuple(FORMATS)


def test_registry_and_cli_import_no_heavy_library():
    probe = ("import sys, json, exporters.registry, exporters.cli\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert not set(HEAVY) & set(json.loads(out))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_options_are_typed_and_apply_to_real_quantizations(name):
    cls = get_format(name)
    for option in cls.options:
        assert option.name.isidentifier() and option.help
        assert option.type in (bool, int, float, str)
        assert isinstance(option.default, option.type)
        assert set(option.quantizations) <= set(cls.quantizations)


def test_the_cli_has_one_flag_per_declared_option_and_nothing_format_specific():
    from exporters.cli import export

    generic = {"--format", "--quantize", "--model", "--out", "--calib", "--data", "--split",
               "--force", "--skip-up-to-date", "--allow-degraded", "--max-delta-map",
               "--latency-runs", "--json"}
    flags = {o for p in export.params for o in p.opts}
    declared = {option.flag for name in FORMATS for option in get_format(name).options}
    assert declared and flags == generic | declared
    assert "--int8-io" in declared  # TFLite's, generated from its declaration


def test_an_option_of_the_wrong_type_is_refused():
    from exporters.errors import ExportError

    with pytest.raises(ExportError, match="tflite option int8_io takes a bool, got 'yes'"):
        get_format("tflite")(int8_io="yes")
