"""What every decoder provides: its parameters, the tensors it reads, the decode graph."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from importers.config import Fields

Shape = tuple[int | None, ...]


class Decoder(ABC):
    """Turns one source model's raw outputs into canonical ``boxes`` and ``scores``.

    Args:
        params: The config's ``decoder`` object (errors name its fields).
        input_size: (height, width) of the model input, in pixels.
        num_classes: Number of labels (one score column each).

    Raises:
        ImportConfigError: a parameter is missing or invalid.
    """

    name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]  # parameters besides "name"

    def __init__(self, params: Fields, input_size: tuple[int, int], num_classes: int):
        params.only("name", *self.keys)
        self.params, self.input_size, self.num_classes = params, input_size, num_classes
        self.parse(params)

    @abstractmethod
    def parse(self, params: Fields) -> None:
        """Read and validate the parameters."""

    @property
    @abstractmethod
    def tensor_names(self) -> tuple[str, ...]:
        """The source output tensors this decoder reads."""

    @abstractmethod
    def check(self, shapes: dict[str, Shape]) -> int:
        """Check the source output shapes against the parameters; return the anchor count N.

        Raises:
            ImportConfigError: a shape disagrees with the parameters (names the field).
        """

    @abstractmethod
    def decode(self, outputs: dict[str, Any]) -> tuple[Any, Any]:
        """Raw output tensors by name -> (boxes ``[B, N, 4]`` normalized xyxy, scores
        ``[B, N, C]`` activated), as TensorFlow ops (traced into the imported graph)."""

    @staticmethod
    def expect(shapes: dict[str, Shape], fields: Fields, key: str, expected: Shape,
               what: str) -> None:
        """Raise naming ``fields.key`` unless the shape of the tensor it names matches
        ``expected`` (``None`` in either matches anything)."""
        tensor = fields.raw[key]
        got = shapes[tensor]
        same = len(got) == len(expected) and all(
            a is None or b is None or a == b for a, b in zip(got, expected, strict=True))
        if not same:
            raise fields.fail(key, f"names tensor {tensor!r} of shape {list(got)}, "
                                          f"expected {list(expected)} ({what})")
