"""Inference engines: run a preprocessed batch, return the outputs ``detector.json`` names
(canonical ``boxes`` and ``scores``, or the tensors of another ``outputs.kind``).

Every engine subclasses :class:`Backend` and declares what it opens and how reports name it;
:mod:`sdk.runtime.registry` lists them. Each reads output tensors **by name** from
``detector.json`` and checks shapes at load time (:mod:`sdk.runtime.contract`). LiteRT is the
runtime; TensorFlow is optional (SavedModel, or the last interpreter fallback) and imported
only when used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from sdk.runtime.contract import RuntimeLoadError
from sdk.spec import DetectorSpec

__all__ = ["Backend", "RuntimeLoadError", "open_backend"]


class Backend(ABC):
    """An inference engine: what :class:`sdk.runtime.detector.Detector` runs a model with.

    Subclasses declare, as class attributes:

    * ``engine``: the registry key (:data:`sdk.runtime.registry.ENGINES`);
    * ``formats``: the export formats it runs (``sdk export --format`` names);
    * ``suffix`` (a model file, e.g. ``.tflite``) **or** ``marker`` (a folder holding this
      file, e.g. ``saved_model.pb``): the artifacts it opens;
    * ``runtime`` and ``accelerator``: how benchmark reports name it (``litert``/``xnnpack``).

    and set ``library`` (the Python package that runs the model) when they open one.
    Subclasses take ``(path, spec, num_threads)`` and raise :class:`RuntimeLoadError`.
    """

    engine: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]
    suffix: ClassVar[str | None] = None
    marker: ClassVar[str | None] = None
    runtime: ClassVar[str]
    accelerator: ClassVar[str]
    library: str

    @abstractmethod
    def __init__(self, path: Path, spec: DetectorSpec, num_threads: int | None = None):
        """Open the model at ``path`` and check its tensors against ``spec``."""

    @property
    def name(self) -> str:
        """``<engine>/<library>``, e.g. ``tflite/ai_edge_litert``."""
        return f"{self.engine}/{self.library}"

    @classmethod
    def artifact(cls) -> str:
        """What this engine opens, for error messages (``a .tflite file``)."""
        return f"a {cls.suffix} file" if cls.suffix else f"a folder with {cls.marker}"

    @classmethod
    def opens(cls, path: Path) -> bool:
        """True when ``path`` names an artifact of this engine (it may still be corrupt)."""
        if cls.suffix:
            return path.suffix == cls.suffix
        return (path / str(cls.marker)).is_file()

    @classmethod
    def models_in(cls, folder: Path) -> list[Path]:
        """This engine's models inside ``folder`` (the folder itself for a marker engine)."""
        if cls.suffix:
            return sorted(p for p in folder.glob(f"*{cls.suffix}") if p.is_file())
        return [folder] if cls.opens(folder) else []

    @classmethod
    def model_file(cls, model: Path) -> Path:
        """The file whose bytes identify ``model`` (the marker file of a folder)."""
        return model if cls.suffix else model / str(cls.marker)

    @classmethod
    def embedded_spec(cls, model: Path) -> DetectorSpec | None:
        """The ``detector.json`` stored inside the model file ``model``, None when absent.

        Used when no ``detector.json`` lies beside the model. Engines whose format has no
        place for it keep this default.
        """
        return None

    def library_version(self) -> str:
        """Installed version of :attr:`library` (``unknown`` when it has no metadata)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.library.replace("_", "-"))
        except PackageNotFoundError:
            return "unknown"

    def input_tensor(self) -> Callable[[], np.ndarray] | None:
        """An accessor of the engine's own input array, for writing an input in place.

        Calling it returns a writable [1, H, W, 3] array of the model's input dtype; write
        the input, drop the array, then call :meth:`invoke` without arguments. Engines whose
        input memory is not exposed return None (the default): pass the input to
        :meth:`invoke` instead.
        """
        return None

    @abstractmethod
    def invoke(self, inputs: np.ndarray | None = None) -> None:
        """Run the model on a [1, H, W, 3] input (dtype per spec); None: on the input
        written through :meth:`input_tensor`."""

    @abstractmethod
    def read(self) -> tuple[np.ndarray, ...]:
        """Outputs of the last invoke, float32, in the order of ``spec.outputs.tensor_names``:
        canonical (boxes [1, N, 4], scores [1, N, C]); see :mod:`sdk.spec` for the others."""

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        """``invoke`` then ``read``: [1, H, W, 3] -> the outputs (canonical: boxes, scores)."""
        self.invoke(inputs)
        return self.read()


def open_backend(model_path: str | Path, spec: DetectorSpec,
                 num_threads: int | None = None) -> Backend:
    """Open ``model_path`` with the first registered engine that opens it, checked against
    ``spec``.

    Raises:
        RuntimeLoadError: not a runnable model, or its tensors do not match ``spec``.
    """
    from sdk.runtime.registry import engine_for_path, runnable_artifacts

    path = Path(model_path)
    engine = engine_for_path(path)
    if engine is None:
        raise RuntimeLoadError(f"{path}: no runnable model (expected {runnable_artifacts()}; "
                               f"TF.js models run in the browser runtime sdk/js/detector.js)")
    return engine(path, spec, num_threads)
