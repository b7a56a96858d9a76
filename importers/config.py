"""The import config file: what ``sdk import`` cannot read from the source model itself.

A JSON object (``importers/configs/nanodet-g-416.json`` is a complete example)::

    schema_version  1
    name            short model name (provenance "architecture")
    title           optional: display name (provenance "title"; the web demo's model menu)
    source          optional: signature (SavedModel, default serving_default), sha256
                    {file name: digest} checked before loading, package/version/url/upstream
                    (recorded in detector.json provenance)
    input           tensor (source input name), size [h, w], layout NCHW|NHWC, channel_order
                    RGB|BGR and mean/std (3 values each, in the source's channel order) of
                    the source model, resize letterbox|stretch, pad_value (0..255)
    decoder         name (one of importers.decoders.DECODERS) + that decoder's parameters,
                    including the source's output tensor names
    labels          one name per class column
    nms             optional: detector.json nms defaults (iou_threshold, score_threshold,
                    max_detections, class_agnostic, pre_nms_top_k)
    licenses        optional: files (relative to the config) copied next to the import

Every error names the config file and the field (:class:`ImportConfigError`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from importers.errors import ImportConfigError

SCHEMA_VERSION = 1
LAYOUTS = ("NCHW", "NHWC")
CHANNEL_ORDERS = ("RGB", "BGR")
RESIZE_MODES = ("letterbox", "stretch")
_TOP_KEYS = ("schema_version", "name", "title", "description", "source", "input", "decoder",
             "labels", "nms", "licenses")
_NMS_KEYS = ("iou_threshold", "score_threshold", "max_detections", "class_agnostic",
             "pre_nms_top_k")


class Fields:
    """Typed reads of one JSON object of the config; errors name ``file`` and ``prefix.key``.

    Decoders read their parameters through it, so every error has the same form.
    """

    def __init__(self, raw: Any, source: str, prefix: str):
        self.source, self.prefix = source, prefix
        if not isinstance(raw, dict):
            raise ImportConfigError(source, prefix, f"must be an object, got {_kind(raw)}")
        self.raw = raw

    def where(self, key: str) -> str:
        """The dotted field name of ``key``."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, key: str, problem: str) -> ImportConfigError:
        """An error about ``key`` (to raise)."""
        return ImportConfigError(self.source, self.where(key), problem)

    def only(self, *allowed: str) -> None:
        """Refuse keys outside ``allowed`` (a typo must not be ignored silently)."""
        unknown = sorted(set(self.raw) - set(allowed))
        if unknown:
            raise ImportConfigError(self.source, self.prefix or "<root>",
                                    f"has unknown keys {unknown} (known: {sorted(allowed)})")

    def get(self, key: str, default: Any = ...) -> Any:
        if key not in self.raw:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        return self.raw[key]

    def string(self, key: str, default: Any = ...) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {list(choices)}, got {value!r}")
        return value

    def boolean(self, key: str, default: Any = ...) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def integer(self, key: str, default: Any = ..., minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self.get(key, default)
        if (not isinstance(value, int) or isinstance(value, bool)
                or (minimum is not None and value < minimum)
                or (maximum is not None and value > maximum)):
            bounds = f" in [{minimum}, {maximum}]" if maximum is not None else (
                f" >= {minimum}" if minimum is not None else "")
            raise self.fail(key, f"must be an integer{bounds}, got {value!r}")
        return value

    def number(self, key: str, default: Any = ..., positive: bool = False) -> float:
        value = self.get(key, default)
        if (not isinstance(value, int | float) or isinstance(value, bool)
                or not math.isfinite(value) or (positive and value <= 0)):
            raise self.fail(key, f"must be a finite{' positive' if positive else ''} number, "
                                 f"got {value!r}")
        return float(value)

    def numbers(self, key: str, count: int | None = None, default: Any = ...,
                positive: bool = False) -> tuple[float, ...]:
        value = self.get(key, default)
        ok = (isinstance(value, list) and (count is None or len(value) == count) and value
              and all(isinstance(v, int | float) and not isinstance(v, bool)
                      and math.isfinite(v) and (not positive or v > 0) for v in value))
        if not ok:
            size = f"{count} " if count is not None else ""
            raise self.fail(key, f"must be a list of {size}finite{' positive' if positive else ''}"
                                 f" numbers, got {value!r}")
        return tuple(float(v) for v in value)

    def objects(self, key: str) -> list[Fields]:
        """A non-empty list of objects, each as :class:`Fields` (``key[i]``)."""
        value = self.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"must be a non-empty list of objects, got {_kind(value)}")
        return [Fields(item, self.source, f"{self.where(key)}[{i}]")
                for i, item in enumerate(value)]

    def child(self, key: str) -> Fields:
        return Fields(self.get(key), self.source, self.where(key))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value),
                                                                  repr(value))


@dataclass(frozen=True)
class SourceInput:
    """The source model's input: which tensor, and what it expects."""

    tensor: str | None  # None: the only input of the signature
    size: tuple[int, int]  # (height, width)
    layout: str = "NHWC"
    channel_order: str = "RGB"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # in the source's channel order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: str = "letterbox"
    pad_value: int = 0

    @property
    def rgb_mean(self) -> tuple[float, ...]:
        """``mean`` in RGB order (what detector.json states: its pixels are RGB)."""
        return self.mean[::-1] if self.channel_order == "BGR" else self.mean

    @property
    def rgb_std(self) -> tuple[float, ...]:
        return self.std[::-1] if self.channel_order == "BGR" else self.std


@dataclass(frozen=True)
class ImportConfig:
    """A validated import config (see the module docstring for the fields)."""

    path: Path
    name: str
    input: SourceInput
    decoder: str
    decoder_params: Fields
    labels: tuple[str, ...]
    nms: dict[str, Any] = field(default_factory=dict)
    signature: str = "serving_default"
    sha256: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    licenses: tuple[Path, ...] = ()
    title: str | None = None


def load_config(path: str | Path) -> ImportConfig:
    """Read and validate an import config file.

    Raises:
        ImportConfigError: missing file, invalid JSON (with its line) or a bad field.
    """
    from importers.decoders import decoder_names

    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise ImportConfigError(src, "<file>", "does not exist (pass --config FILE)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportConfigError(src, "<file>", f"cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ImportConfigError(src, "<file>",
                                f"is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    top = Fields(raw, src, "")
    top.only(*_TOP_KEYS)
    version = top.get("schema_version")
    if version != SCHEMA_VERSION:
        raise top.fail("schema_version", f"must be {SCHEMA_VERSION}, got {version!r}")
    source = top.child("source") if "source" in raw else Fields({}, src, "source")
    source.only("signature", "sha256", "package", "version", "url", "upstream", "license")
    sha = source.get("sha256", {})
    if not isinstance(sha, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in sha.items()):
        raise source.fail("sha256", "must map file names to 64-hex-digit sha256 digests")
    decoder = top.child("decoder")
    labels = top.get("labels")
    if not (isinstance(labels, list) and labels
            and all(isinstance(x, str) and x for x in labels)):
        raise top.fail("labels", "must be a non-empty list of non-empty strings")
    if len(set(labels)) != len(labels):
        raise top.fail("labels", "has duplicate names")
    nms = top.child("nms") if "nms" in raw else Fields({}, src, "nms")
    nms.only(*_NMS_KEYS)
    licenses = top.get("licenses", [])
    if not isinstance(licenses, list) or not all(isinstance(p, str) for p in licenses):
        raise top.fail("licenses", "must be a list of file paths (relative to the config)")
    license_paths = tuple(path.parent / p for p in licenses)
    for i, file in enumerate(license_paths):
        if not file.is_file():
            raise top.fail(f"licenses[{i}]", f"names {file}, which does not exist")
    return ImportConfig(
        path=path, name=top.string("name"), input=_input(top.child("input")),
        decoder=decoder.choice("name", decoder_names()), decoder_params=decoder,
        labels=tuple(labels), nms=dict(nms.raw), signature=source.string("signature",
                                                                         "serving_default"),
        sha256=dict(sha),
        provenance={k: source.string(k) for k in ("package", "version", "url", "upstream",
                                                  "license") if k in source.raw},
        licenses=license_paths, title=top.string("title") if "title" in raw else None)


def _input(raw: Fields) -> SourceInput:
    raw.only("tensor", "size", "layout", "channel_order", "mean", "std", "resize", "pad_value")
    size = raw.get("size")
    if not (isinstance(size, list) and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        raise raw.fail("size", f"must be [height, width] positive integers, got {size!r}")
    return SourceInput(
        tensor=raw.string("tensor") if "tensor" in raw.raw else None, size=(size[0], size[1]),
        layout=raw.choice("layout", LAYOUTS), channel_order=raw.choice("channel_order",
                                                                       CHANNEL_ORDERS),
        mean=raw.numbers("mean", 3), std=raw.numbers("std", 3, positive=True),
        resize=raw.choice("resize", RESIZE_MODES, "letterbox"),
        pad_value=raw.integer("pad_value", 0, minimum=0, maximum=255))
