"""Kernels of the interpreter, one module per op family; :data:`KERNELS` maps op types to them."""

from exporters.formats.coreml.mil.ops import (  # noqa: F401 (importing registers the kernels)
    compression,
    conv,
    elementwise,
    linalg,
    normalization,
    reduction,
    resize,
    tensor,
)
from exporters.formats.coreml.mil.ops.registry import KERNELS

__all__ = ["KERNELS"]
