"""Typed import errors: each names the file and the field (or tensor) that is wrong.

The CLI turns every :class:`ImporterError` into a one-paragraph message and exit code 1.
"""

from __future__ import annotations


class ImporterError(Exception):
    """Base class of every import failure a user can act on."""


class ImportConfigError(ImporterError):
    """The import config file is missing, malformed or inconsistent with the source."""

    def __init__(self, source: str, field: str, problem: str):
        self.source, self.field = source, field
        super().__init__(f"{source}: field '{field}' {problem}")


class ImportSourceError(ImporterError):
    """The source model is missing, unreadable, or lacks a tensor the config names."""
