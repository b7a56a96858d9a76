"""A numpy reference interpreter for the Core ML ML programs the CoreML exporter writes.

Core ML's ``predict`` exists only on macOS; this runs a saved ``.mlpackage`` anywhere, op by op,
rounding each op's result to its declared type (float16 programs round after every op, as on
a device), so CoreML exports can be checked for parity on Linux too::

    from exporters.formats.coreml.mil import load_program

    program = load_program("model.mlpackage")       # read once (weights decompressed)
    out = program.run({"images": batch_of_one})     # {"boxes": ..., "scores": ...}

:class:`~exporters.formats.coreml.mil.runner.InterpreterRunner` wraps it in the parity gate's
runner protocol. ``python -m exporters.formats.coreml.mil.measure`` measures its cost.

An op without a kernel raises :class:`UnsupportedOpError` naming it; nothing passes silently.
Importing this package is light (numpy only); coremltools is imported when a program is loaded.
"""

from exporters.formats.coreml.mil.errors import MilError, UnsupportedOpError
from exporters.formats.coreml.mil.ops import KERNELS
from exporters.formats.coreml.mil.program import Program, load_program, run_mlpackage

SUPPORTED_OPS: frozenset[str] = frozenset(KERNELS)

__all__ = ["SUPPORTED_OPS", "MilError", "Program", "UnsupportedOpError", "load_program",
           "run_mlpackage"]
