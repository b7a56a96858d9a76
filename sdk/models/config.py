"""Serializable description of a detector: everything needed to rebuild it from weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sdk.anchors import AnchorLevel
from sdk.models.heads import LEGACY_LOSSES, Head, UnknownHeadError, get_head
from sdk.spec import InputSpec, NmsSpec


class ConfigError(ValueError):
    """A ``config.json`` that describes no detector; the message names the file and field."""


@dataclass(frozen=True)
class DetectorConfig:
    """Architecture hyper-parameters plus the labels and preprocessing the model was trained with.

    Attributes:
        arch: registry key, ``"fast"`` or ``"accurate"``.
        input_size: (height, width) of the model input.
        labels: class names, in output column order.
        levels: anchor levels, in output order (coarse-to-fine order is the builder's choice).
        alpha: MobileNetV2 width multiplier of the backbone.
        head_channels: width of the extra layers / FPN and of the heads.
        head: detection head, a key of :data:`sdk.models.heads.HEADS` (``"softmax"`` for
            SSD, ``"focal"`` for RetinaNet): activation, background column and loss.
        backbone_weights: what the backbone started from when training began: ``None``
            (random), ``"imagenet"`` or a local MobileNetV2 weights file. A record only:
            builders always start from random weights and trained weights are loaded
            over them (:mod:`sdk.models.transfer` loads these at the start of training).
    """

    arch: str
    input_size: tuple[int, int]
    labels: tuple[str, ...]
    levels: tuple[AnchorLevel, ...]
    alpha: float = 0.35
    head_channels: int = 96
    head_depth: int = 1
    head: str = "softmax"
    matcher_positive: float = 0.5
    matcher_negative: float = 0.4
    backbone_weights: str | None = None
    nms: NmsSpec = field(default_factory=NmsSpec)

    def __post_init__(self) -> None:
        get_head(self.head)  # an unknown head fails here, before anything is built or trained

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def detection_head(self) -> Head:
        """The registry entry of :attr:`head`."""
        return get_head(self.head)

    @property
    def input_spec(self) -> InputSpec:
        """The preprocessing this model was trained with (MobileNetV2: pixels to [-1, 1])."""
        return InputSpec(size=tuple(self.input_size))

    def replace(self, **changes: Any) -> DetectorConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectorConfig:
        """Rebuild a config from :meth:`to_dict` output; raises :class:`ConfigError`."""
        if not isinstance(data, dict):
            raise ConfigError(f"expected a JSON object, not {type(data).__name__}")
        data = dict(data)
        head_field = "head"
        if "loss" in data and "head" not in data:  # written before the head registry
            head_field, legacy = "loss", data.pop("loss")
            data["head"] = LEGACY_LOSSES.get(legacy, legacy)
        try:
            data["input_size"] = tuple(data["input_size"])
            data["labels"] = tuple(data["labels"])
            data["levels"] = tuple(
                AnchorLevel(lv["stride"], lv["size"], tuple(lv["scales"]), tuple(lv["ratios"]))
                for lv in data["levels"]
            )
            data["nms"] = NmsSpec(**data.get("nms", {}))
            return cls(**data)
        except UnknownHeadError as exc:
            raise ConfigError(f"field {head_field!r}: {exc}") from exc
        except KeyError as exc:
            raise ConfigError(f"missing field {exc}") from exc
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc

    def save(self, path: str | Path) -> None:
        from sdk.atomic import write_text_atomic

        write_text_atomic(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> DetectorConfig:
        """Read a ``config.json``; raises :class:`ConfigError` naming ``path`` and the field."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
