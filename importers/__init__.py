"""Importers: detectors trained elsewhere -> the SDK's canonical SavedModel + ``detector.json``.

``import importers`` is light (no TensorFlow): the sources (:mod:`importers.sources`) and
the decoders (:data:`importers.decoders.DECODERS`) import it when used. The entry points are
:func:`importers.build.import_model` and the ``sdk import`` command (:mod:`importers.cli`).
``sdk`` never imports this package (docs/DESIGN.md section 2).
"""

from __future__ import annotations

from importers.errors import ImportConfigError, ImporterError, ImportSourceError

__all__ = ["ImportConfigError", "ImportSourceError", "ImporterError"]
