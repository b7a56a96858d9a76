"""Matrix planning, tables and exit codes (no conversion)."""

from __future__ import annotations

import pytest

from exporters.cli import _exit_code
from exporters.errors import ExportError, UnsupportedQuantizationError
from exporters.matrix import COLUMNS, markdown, plan
from exporters.registry import FORMATS, get_format


def test_all_by_all_is_every_declared_quantization():
    cells, skipped = plan("all", "all")
    expected = [(f, q) for f in FORMATS for q in get_format(f).quantizations]
    assert cells == expected and not skipped


def test_default_quantization_per_format():
    assert plan("tfjs", None) == ([("tfjs", "fp32")], [])
    assert plan("coreml", None) == ([("coreml", "fp16")], [])


def test_one_quantization_across_formats_skips_the_others_with_a_reason():
    cells, skipped = plan("all", "fp16")
    assert cells == [("tflite", "fp16"), ("tfjs", "fp16"), ("onnx", "fp16"), ("coreml", "fp16")]
    assert skipped == ["savedmodel has no fp16 (valid: fp32)",
                       "mediapipe has no fp16 (valid: fp32, int8)"]


def test_unsupported_combination_lists_the_valid_ones():
    with pytest.raises(UnsupportedQuantizationError,
                       match=r"tfjs does not support quantization 'int8'.*fp32, fp16, uint8, "
                             r"uint16"):
        plan("tfjs", "int8")
    with pytest.raises(UnsupportedQuantizationError, match="int8_dynamic"):
        plan("all", "int3")


def test_a_comma_separated_list_of_quantizations():
    assert plan("tfjs", "fp32,fp16,uint8") == (
        [("tfjs", "fp32"), ("tfjs", "fp16"), ("tfjs", "uint8")], [])
    cells, skipped = plan("all", "fp32,fp16")
    assert cells == [("tflite", "fp32"), ("tflite", "fp16"), ("tfjs", "fp32"),
                     ("tfjs", "fp16"), ("onnx", "fp32"), ("onnx", "fp16"), ("coreml", "fp16"),
                     ("savedmodel", "fp32"), ("mediapipe", "fp32")]
    assert skipped == ["coreml has no fp32 (valid: fp16, int8, palettize6, palettize4)",
                       "savedmodel has no fp16 (valid: fp32)",
                       "mediapipe has no fp16 (valid: fp32, int8)"]
    with pytest.raises(UnsupportedQuantizationError, match="tfjs does not support "
                                                           "quantization 'int8, int4'"):
        plan("tfjs", "fp32,int8,int4")


@pytest.mark.parametrize("bad", ["fp32,,fp16", "all,fp32", ","])
def test_a_malformed_list_is_refused(bad):
    with pytest.raises(ExportError, match="comma-separated list"):
        plan("tfjs", bad)


def test_markdown_has_one_row_per_cell_and_the_notes():
    rows = [{"format": "tflite", "quantization": "int8 -> int8_float_head", "status": "ok",
             "size_mb": 1.2, "mAP": 0.5, "mAP50": 0.8, "delta_mAP": 0.4, "p50_ms": 3.0,
             "p90_ms": 4.0, "parity": "pass", "notes": ["int8 missed its budget"]},
            {"format": "tfjs", "quantization": "fp16", "status": "error", "notes": ["boom"],
             **dict.fromkeys(COLUMNS[3:])}]
    text = markdown(rows, "title")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 3 and "int8_float_head" in table[1]
    assert "* tflite int8 -> int8_float_head: int8 missed its budget" in text


@pytest.mark.parametrize(("statuses", "code"), [
    (["ok", "unchecked", "degraded", "up-to-date"], 0), (["ok", "error"], 1),
    (["error", "failed"], 3)])
def test_exit_codes(statuses, code):
    assert _exit_code([{"status": s} for s in statuses]) == code
