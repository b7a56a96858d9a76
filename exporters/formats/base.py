"""What every export format provides: options, checks, conversion, metadata, a real runner.

A format is one subclass of :class:`ExportFormat` in its own package (or module) under
``exporters/formats/`` plus one line in :data:`exporters.registry.FORMATS`. The orchestrator
(:mod:`exporters.export`) and the CLI know nothing format-specific: the CLI makes one flag
per declared :class:`FormatOption`, the orchestrator calls these methods in order and runs
the parity gate on the runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from exporters.errors import (
    CalibrationError,
    ConversionError,
    ExportError,
    UnsupportedQuantizationError,
)
from sdk.spec import DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.source import ExportSource

# Budget classes of the parity gate (see exporters.parity.DEFAULT_BUDGETS).
EXACT, HALF, LOW_BIT = "exact", "fp16", "int8"


@dataclass(frozen=True)
class FormatOption:
    """One option a format takes; the CLI turns it into the flag ``--<name with dashes>``.

    Attributes:
        name: Keyword of the format's constructor (a Python identifier).
        type: ``bool`` (a flag), ``int``, ``float`` or ``str``.
        default: Value when not given.
        help: One line for ``sdk export --help``.
        quantizations: The quantizations it applies to (empty: all of the format's).
        requires: Why it needs them, said when it is given for another quantization.
    """

    name: str
    type: type
    default: Any
    help: str
    quantizations: tuple[str, ...] = ()
    requires: str = ""

    @property
    def flag(self) -> str:
        """The command-line spelling, e.g. ``--int8-io``."""
        return "--" + self.name.replace("_", "-")

    def applies(self, quantization: str) -> bool:
        """Whether the option means something for ``quantization``."""
        return not self.quantizations or quantization in self.quantizations

    def value(self, fmt: str, given: Any) -> Any:
        """``given`` checked against :attr:`type` (the default when None)."""
        if given is None:
            return self.default
        if not isinstance(given, self.type):
            raise ExportError(f"{fmt} option {self.name} takes a {self.type.__name__}, "
                              f"got {given!r}")
        return given


class Runner(Protocol):
    """An artifact loaded in the runtime a device would use."""

    description: str

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        """[B, H, W, 3] inputs (dtype per detector.json) -> (boxes [B, N, 4], scores [B, N, C]),
        or the outputs of the artifact's ``outputs.kind`` with a batch dimension."""
        ...

    def latency(self, inputs: np.ndarray, runs: int, warmup: int) -> list[float]:
        """Milliseconds of ``runs`` single-image inferences (outputs read back)."""
        ...


class BackendRunner:
    """Adapt an :mod:`sdk.runtime` engine (batch 1) to :class:`Runner`."""

    def __init__(self, backend: Any, description: str):
        self.backend = backend
        self.description = description

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        outs = [self.backend.run(inputs[i:i + 1]) for i in range(len(inputs))]
        return tuple(np.concatenate(parts) for parts in zip(*outs, strict=True))

    def latency(self, inputs: np.ndarray, runs: int, warmup: int) -> list[float]:
        return time_loop(lambda i: self.backend.run(inputs[i % len(inputs)][None]), runs, warmup)


def time_loop(step: Callable[[int], object], runs: int, warmup: int) -> list[float]:
    """Call ``step(i)`` ``warmup`` times untimed, then ``runs`` times timed (ms each)."""
    for i in range(warmup):
        step(i)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def package_version(package: str) -> str:
    """Installed version of a distribution (``?`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


def path_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class ExportFormat:
    """One export target: its quantizations, options, conversion, metadata and runtime.

    Subclasses set the class attributes and implement :meth:`convert`,
    :meth:`embed_metadata`, :meth:`read_metadata` and :meth:`runner`. Limits are class
    attributes whose comment says why the limit exists.

    Attributes:
        name: Registry key and the ``--format`` value.
        quantizations: Supported ``--quantize`` values; the first is the default.
        default_quantization: ``quantizations[0]`` unless a subclass says otherwise.
        budget_class: Quantization -> parity budget class (``exact``, ``fp16``, ``int8``).
        calibrated: Quantizations that need calibration images.
        fallbacks: Quantization -> variant retried when the first conversion misses its
            parity budget (e.g. full int8 -> int8 with the box/score head kept in float).
        options: The options the constructor accepts (one CLI flag each).
        usage: README section on loading the artifact outside Python (``{url}``,
            ``{input}`` and ``{pad}`` are filled in).
        python_runtime: Whether ``sdk.load`` runs the artifact.
        converter_packages: Distributions whose versions go into the provenance.
        filename: The artifact's main file or folder in the export folder ("": the export
            folder itself).
    """

    name: ClassVar[str] = ""
    quantizations: ClassVar[tuple[str, ...]] = ()
    default_quantization: ClassVar[str] = ""
    budget_class: ClassVar[dict[str, str]] = {}
    calibrated: ClassVar[frozenset[str]] = frozenset()
    fallbacks: ClassVar[dict[str, str]] = {}
    options: ClassVar[tuple[FormatOption, ...]] = ()
    usage: ClassVar[str] = ""
    python_runtime: ClassVar[bool] = True
    converter_packages: ClassVar[tuple[str, ...]] = ("tensorflow",)
    filename: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.quantizations and not cls.default_quantization:
            cls.default_quantization = cls.quantizations[0]

    def __init__(self, **options: Any):
        declared = {o.name: o for o in self.options}
        unknown = sorted(k for k, v in options.items()
                         if k not in declared and v is not None and v is not False)
        if unknown:
            valid = ", ".join(declared) or "none"
            raise ExportError(f"{self.name} does not take option(s) {', '.join(unknown)} "
                              f"(options of {self.name}: {valid})")
        self.opts = {k: o.value(self.name, options.get(k)) for k, o in declared.items()}

    # -- checks --------------------------------------------------------------------------
    def check_args(self, quantization: str, calib: object | None) -> None:
        """Refuse an unsupported quantization, missing calibration or a misplaced option."""
        if quantization not in self.quantizations:
            raise UnsupportedQuantizationError(self.name, quantization, self.quantizations)
        if quantization in self.calibrated and calib is None:
            raise self.calibration_missing(quantization)
        for option in self.options:
            if self.opts[option.name] != option.default and not option.applies(quantization):
                needs = option.requires or " or ".join(option.quantizations)
                raise UnsupportedQuantizationError(self.name, quantization,
                                                   option.quantizations,
                                                   f"{option.flag} needs {needs}")

    def calibration_missing(self, quantization: str) -> CalibrationError:
        """The error of a calibrated quantization asked for without calibration images."""
        return CalibrationError(
            f"{self.name} {quantization} needs calibration images: pass --calib FOLDER "
            f"(images or a dataset) or --data DATASET (its train split is used)")

    @classmethod
    def applicable_options(cls, quantization: str, options: Mapping[str, Any],
                           ) -> dict[str, Any]:
        """The subset of ``options`` that applies to ``quantization`` (used by the matrix)."""
        declared = {o.name: o for o in cls.options}
        return {k: v for k, v in options.items()
                if k in declared and declared[k].applies(quantization)}

    def variants(self, quantization: str) -> tuple[str, ...]:
        """The conversions to try in order: the requested one, then its fallback if any."""
        fallback = self.fallbacks.get(quantization)
        return (quantization, fallback) if fallback else (quantization,)

    # -- conversion ----------------------------------------------------------------------
    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        """Write the artifact into ``out_dir``; return its main file or folder."""
        raise NotImplementedError

    def artifact_spec(self, artifact: Path, spec: DetectorSpec) -> DetectorSpec:
        """``spec`` adjusted to what the artifact really expects (e.g. int8 input params)."""
        return spec

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        """Store ``detector.json`` inside the artifact where the format allows."""
        raise NotImplementedError

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        """Read back the embedded ``detector.json`` (used by tests and ``validate``)."""
        raise NotImplementedError

    # -- checking the result --------------------------------------------------------------
    def runner(self, artifact: Path, spec: DetectorSpec) -> Runner:
        """Load the artifact in the format's real runtime (raises RunnerUnavailableError)."""
        raise NotImplementedError

    def validate(self, artifact: Path, spec: DetectorSpec) -> dict[str, Any]:
        """Structural checks that need no runtime; returns what was checked."""
        embedded = self.read_metadata(artifact)
        if embedded.to_dict() != spec.to_dict():
            raise ExportError(f"{artifact}: embedded detector.json differs from the one written")
        return {"embedded_spec": "matches"}

    def artifact_in(self, folder: Path) -> Path:
        """Where the artifact is inside a finished export folder."""
        return folder / self.filename if self.filename else folder

    def artifact_size(self, artifact: Path) -> int:
        """Bytes a device downloads for this artifact."""
        return path_size(artifact)

    def converter_versions(self) -> dict[str, str]:
        """Versions of the converter packages, recorded in provenance."""
        return {p: package_version(p) for p in self.converter_packages}


# How each converter names the op or layer it stumbled on, most specific first.
_CULPRIT_PATTERNS = (
    r"'(tfl?\.\w+)' op",  # TFLite/MLIR: "'tf.Foo' op is neither a custom op nor a flex op"
    r"Unsupported Ops in the model[^\n]*\n\s*([^\n]+)",  # tensorflowjs: list on next line
    r"Conversion for TF op '(\w+)' not implemented",  # coremltools
    r"[Oo]p type not registered '(\w+)'",  # TensorFlow graph import
    r"[Ll]ayer ['\"]([\w./-]+)['\"]",  # Keras
    r"node ['\"]?([\w./-]+)['\"]?",  # graph nodes named by any converter
)


def conversion_error(fmt: str, exc: BaseException) -> ConversionError:
    """A :class:`ConversionError` naming the op or layer when the converter message does."""
    import re

    text = str(exc).strip() or type(exc).__name__
    culprit = next((m.group(1) for p in _CULPRIT_PATTERNS if (m := re.search(p, text))), None)
    first = next((line.strip() for line in text.splitlines() if line.strip()), text)
    where = f" at {culprit}" if culprit else ""
    return ConversionError(f"{fmt} conversion failed{where}: {first[:400]}")
