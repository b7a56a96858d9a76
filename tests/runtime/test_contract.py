"""Unit checks of the load-time contract (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from sdk.runtime.contract import RuntimeLoadError, check_input, check_outputs
from sdk.spec import DetectorSpec, InputSpec, OutputSpec

SPEC = DetectorSpec(input=InputSpec(size=(64, 48), dtype="int8", quant_scale=0.0078,
                                    quant_zero_point=-1), labels=("a", "b"))


def test_matching_quantized_input_passes():
    check_input("m", SPEC, [1, 64, 48, 3], np.int8, (0.0078, -1))


@pytest.mark.parametrize("shape, dtype, quant, message", [
    ([1, 48, 64, 3], np.int8, (0.0078, -1), r"input.size \[64, 48\]"),
    ([1, 64, 48, 3], np.uint8, (0.0078, -1), "input dtype uint8"),
    ([1, 64, 48, 3], np.int8, (0.5, -1), "quantized wrongly"),
    ([1, 64, 48, 3], np.int8, (0.0078, 3), "zero point 3"),
])
def test_input_mismatches(shape, dtype, quant, message):
    with pytest.raises(RuntimeLoadError, match=message):
        check_input("m.tflite", SPEC, shape, dtype, quant)


def test_output_shapes():
    check_outputs("m", SPEC, [1, 10, 4], [1, 10, 2])
    with pytest.raises(RuntimeLoadError, match=r"expects \[1, N, 4\]"):
        check_outputs("m", SPEC, [1, 10, 5], [1, 10, 2])
    with pytest.raises(RuntimeLoadError, match=r"expects \[1, 10, 2\]"):
        check_outputs("m", SPEC, [1, 10, 4], [1, 11, 2])
    spec = DetectorSpec(input=SPEC.input, labels=SPEC.labels, outputs=OutputSpec(num_anchors=9))
    with pytest.raises(RuntimeLoadError, match="num_anchors says 9"):
        check_outputs("m", spec, [1, 10, 4], [1, 10, 2])
