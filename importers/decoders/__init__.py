"""Decoders by name, imported lazily: a source model's raw outputs -> canonical boxes/scores.

Adding a decoder = one module here with a :class:`~importers.decoders.base.Decoder` subclass
+ one line in :data:`DECODERS`. The import config's ``decoder.name`` picks one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from importers.decoders.base import Decoder

DECODERS: dict[str, str] = {
    "canonical": "importers.decoders.canonical:CanonicalDecoder",
    "yolo": "importers.decoders.yolo:YoloDecoder",
    "gfl": "importers.decoders.gfl:GflDecoder",
    "ssd": "importers.decoders.ssd:SsdDecoder",
}


def decoder_names() -> tuple[str, ...]:
    """Registered decoder names."""
    return tuple(DECODERS)


def get_decoder(name: str) -> type[Decoder]:
    """The decoder class registered under ``name``.

    Raises:
        KeyError: no such decoder (the config check names the valid ones first).
    """
    module, attr = DECODERS[name].split(":")
    return getattr(importlib.import_module(module), attr)
