"""The interpreter behind the parity gate's runner protocol (``exporters.formats.base.Runner``):
``model.mlpackage`` checked where Core ML's ``predict`` does not exist."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from exporters.formats.coreml.mil.errors import MilError
from exporters.formats.coreml.mil.program import load_program

if TYPE_CHECKING:  # pragma: no cover
    from sdk.spec import DetectorSpec


class InterpreterRunner:
    """``model.mlpackage`` (``images`` [1, H, W, 3] float32 -> ``boxes`` [1, N, 4], ``scores``
    [1, N, C] float32) run by the numpy interpreter, one image at a time.

    ``latency`` measures nothing (an empty list): the interpreter's speed says nothing about
    Core ML's on a device, and a p50 beside the other formats' runtimes would read as one.
    ``python -m exporters.formats.coreml.mil.measure`` measures the interpreter's own cost.
    """

    def __init__(self, artifact: Path, spec: DetectorSpec):
        import coremltools as ct

        self.program = load_program(artifact)
        self.spec = spec
        self.input = spec.input.name
        self.outputs = (spec.outputs.boxes, spec.outputs.scores)
        if self.input not in self.program.inputs:
            raise MilError(f"{artifact}: no input {self.input!r} (detector.json input.name); "
                           f"the program takes {list(self.program.inputs)}")
        missing = [n for n in self.outputs if n not in self.program.outputs]
        if missing:
            raise MilError(f"{artifact}: no output(s) {missing} (detector.json outputs); the "
                           f"program returns {list(self.program.outputs)}")
        self.description = (f"Core ML ML-program interpreter (numpy, {self.program.opset}; "
                            f"read with coremltools {ct.__version__})")

    def _one(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.program.run({self.input: x})
        return out[self.outputs[0]], out[self.outputs[1]]

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[B, H, W, 3] -> (boxes [B, N, 4], scores [B, N, C]), float32."""
        outs = [self._one(inputs[i:i + 1]) for i in range(len(inputs))]
        return (np.concatenate([o[0] for o in outs]).astype(np.float32),
                np.concatenate([o[1] for o in outs]).astype(np.float32))

    def latency(self, inputs: np.ndarray, runs: int, warmup: int) -> list[float]:
        """No timings: see the class docstring."""
        return []
