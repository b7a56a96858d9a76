"""Exporters: a trained detector to TFLite, TF.js, CoreML or SavedModel, checked for parity.

``import exporters`` is light (no TensorFlow): formats (one package each under
``exporters/formats/``) are imported from :data:`exporters.registry.FORMATS` when used. The
entry points are :func:`exporters.export.export` (one export),
:func:`exporters.matrix.run_matrix` (the format x quantization matrix), both building an
:class:`exporters.export.ExportJob`, and the ``sdk export`` command (:mod:`exporters.cli`).
"""

from __future__ import annotations

from exporters.errors import ExportError

__all__ = ["ExportError"]
