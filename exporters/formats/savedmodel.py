"""SavedModel: the fp32 reference export, for TensorFlow Serving and further conversion."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from exporters.formats.base import EXACT, BackendRunner, ExportFormat, path_size
from sdk.spec import SPEC_FILENAME, DetectorSpec

if TYPE_CHECKING:  # pragma: no cover
    from exporters.calibration import CalibrationSet
    from exporters.source import ExportSource


class SavedModelFormat(ExportFormat):
    """A frozen TensorFlow SavedModel whose ``serving_default`` returns ``boxes``/``scores``.

    The embedded metadata is ``assets.extra/detector.json``, the folder TensorFlow Serving
    reserves for files that travel with a SavedModel without being part of the graph.
    """

    name = "savedmodel"
    quantizations = ("fp32",)
    budget_class: ClassVar[dict[str, str]] = {"fp32": EXACT}
    metadata_path = f"assets.extra/{SPEC_FILENAME}"  # not loaded by TF, kept by copies

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        # The export folder is the SavedModel itself (saved_model.pb at its top), so
        # sdk.load(folder) and tf.saved_model.load(folder) both work on it.
        shutil.copytree(source.saved_model, out_dir, dirs_exist_ok=True)
        return out_dir

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        spec.save(_mkdir(artifact / self.metadata_path))

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        return DetectorSpec.load(artifact / self.metadata_path)

    def runner(self, artifact: Path, spec: DetectorSpec) -> BackendRunner:
        import tensorflow as tf

        from sdk.runtime.savedmodel import SavedModelBackend

        return BackendRunner(SavedModelBackend(artifact, spec),
                             f"tensorflow {tf.__version__} (SavedModel)")

    def artifact_size(self, artifact: Path) -> int:
        return sum(path_size(artifact / p) for p in ("saved_model.pb", "variables")
                   if (artifact / p).exists())


def _mkdir(file: Path) -> Path:
    file.parent.mkdir(parents=True, exist_ok=True)
    return file
