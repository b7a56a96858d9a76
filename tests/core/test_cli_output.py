"""What ``sdk`` commands print: tables that fit 80 columns, no library log chatter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from sdk.commands.console import print_rows
from sdk.commands.quiet import is_noise

SDK = Path(sys.executable).with_name("sdk")

# Lines TensorFlow 2.19, XLA, Grappler, the TFLite converter and LiteRT print on their own.
NOISE = [
    "2026-12-05 09:11:52.551749: E external/local_xla/xla/stream_executor/cuda/cuda_fft.cc:467]"
    " Unable to register cuFFT factory",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "E0000 00:00:1796461912.637783    5622 cuda_dnn.cc:8579] Unable to register cuDNN factory",
    "W0000 00:00:1796461912.709813    5622 computation_placer.cc:177] computation placer",
    "I0000 00:00:1796461995.031244    5622 single_machine.cc:374] Starting new session",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32, output_inference_type:",
    "WARNING:absl:Found untraced functions such as _jit_compiled_convolution_op",
]
KEPT = [
    "F0000 00:00:1796461912.709813    5622 something.cc:12] Check failed: fatal, kept",
    "[tfjs fp16] ok",
    "Error: no variant with a known mAP reaches 60 FPS",
    "Traceback (most recent call last):",
]


def test_library_log_lines_are_noise_and_ours_are_not() -> None:
    assert all(is_noise(line) for line in NOISE)
    assert not any(is_noise(line) for line in KEPT)


def _printed(title: str, rows: list[dict]) -> str:
    return CliRunner().invoke(click.command()(lambda: print_rows(title, rows, False))).output


def test_tables_fit_80_columns_with_whole_headers() -> None:
    one = {"model": "fast", **{f"AP50_metric_{i}": 0.5 + i / 100 for i in range(9)}}
    export = [{"format": "tflite", "quant": q, "status": "up-to-date", "MB": 3.101,
               "mAP": 0.6237, "mAP50": 0.8471, "ΔmAP": -0.0121, "p50 ms": 448.7,
               "p90 ms": 675.2, "parity": "skipped"} for q in ("fp32", "int8_dynamic")]
    many = [dict(row, quant=f"q{i}") for i, row in enumerate(export * 3)]
    for rows in ([one], export, many):
        output = _printed("title", rows)
        assert max(len(line) for line in output.splitlines()) <= 80, output
        assert "…" not in output  # nothing cut short
    assert "AP50_metric_8" in _printed("t", [one])  # one record: a field per line
    flipped = _printed("t", export)  # a few records: transposed, every field shown
    assert "p90 ms" in flipped and "int8_dynamic" in flipped
    assert "not shown to fit 80 columns" in _printed("t", many)  # and says what is left out


def test_a_tensorflow_command_prints_no_library_chatter(tmp_path: Path) -> None:
    script = ("import sys; from sdk.cli import main; sys.argv = ['sdk', 'eval', '--help']; "
              "from sdk.commands import quiet; quiet.install(); import tensorflow; main()")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Usage:" in output
    assert not any(is_noise(line) for line in output.splitlines()), output[-3000:]
    assert "cuda" not in output.lower() and "absl" not in output.lower()
