"""Errors of the ML-program interpreter: each names the op type and the output it computes."""

from __future__ import annotations

from exporters.errors import ExportError


class MilError(ExportError):
    """The program cannot be read or run by the interpreter (malformed, or a kernel failed)."""


class UnsupportedOpError(MilError):
    """The program holds an op (or an op configuration) the interpreter has no kernel for.

    An unknown op type is refused when the program is loaded, before anything runs; an
    unsupported configuration of a known op (e.g. a mode no kernel implements) when the op
    first runs. Either way a check built on the interpreter fails instead of passing.
    """

    def __init__(self, op_type: str, output: str, detail: str = ""):
        self.op_type, self.output = op_type, output
        why = f": {detail}" if detail else ""
        super().__init__(f"the Core ML interpreter does not support op {op_type!r} "
                         f"(computing {output!r}){why}")


class Unsupported(Exception):  # noqa: N818 (internal signal, re-raised as UnsupportedOpError)
    """Raised by a kernel for a configuration it does not implement; the program adds the op."""
