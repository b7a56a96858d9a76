"""Typed export errors: each names what is wrong and what would be valid.

The CLI turns every :class:`ExportError` into a one-paragraph message and a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Iterable


class ExportError(Exception):
    """Base class of every export failure a user can act on."""


class UnsupportedFormatError(ExportError):
    """The requested format is not registered."""

    def __init__(self, name: str, valid: Iterable[str]):
        self.valid = tuple(valid)
        super().__init__(f"unknown export format {name!r}; valid formats: {', '.join(self.valid)}")


class UnsupportedQuantizationError(ExportError):
    """The quantization (or a format option) does not apply to the format."""

    def __init__(self, fmt: str, quantization: str, valid: Iterable[str], why: str = ""):
        self.valid = tuple(valid)
        reason = f" ({why})" if why else ""
        super().__init__(f"{fmt} does not support quantization {quantization!r}{reason}; "
                         f"valid for {fmt}: {', '.join(self.valid)}")


class CalibrationError(ExportError):
    """Calibration images are missing, unreadable or empty."""


class ConversionError(ExportError):
    """The converter failed; the message names the op or layer when the converter does."""


class OutputExistsError(ExportError):
    """The destination exists and ``force`` was not given."""


class RunnerUnavailableError(ExportError):
    """The format's runtime is not available here (e.g. CoreML prediction off macOS)."""


class ParityError(ExportError):
    """The artifact misses its parity budget; ``report`` holds the measurements."""

    def __init__(self, message: str, report: object = None):
        self.report = report
        super().__init__(message)
