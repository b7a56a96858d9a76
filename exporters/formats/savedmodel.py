"""SavedModel: the fp32 reference export, for TensorFlow Serving and further conversion."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from exporters.formats.base import EXACT, BackendRunner, ExportFormat
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
    folder = "saved_model"  # a sub-folder, so detector.json and README sit beside the model
    metadata_path = f"assets.extra/{SPEC_FILENAME}"  # not loaded by TF, kept by copies

    def convert(self, source: ExportSource, out_dir: Path, quantization: str,
                calib: CalibrationSet | None) -> Path:
        target = out_dir / self.folder
        shutil.copytree(source.saved_model, target)
        return target

    def embed_metadata(self, artifact: Path, spec: DetectorSpec) -> None:
        spec.save(_mkdir(artifact / self.metadata_path))

    def read_metadata(self, artifact: Path) -> DetectorSpec:
        return DetectorSpec.load(artifact / self.metadata_path)

    def runner(self, artifact: Path, spec: DetectorSpec) -> BackendRunner:
        import tensorflow as tf

        from sdk.runtime.backends import SavedModelBackend

        return BackendRunner(SavedModelBackend(artifact, spec),
                             f"tensorflow {tf.__version__} (SavedModel)")



def _mkdir(file: Path) -> Path:
    file.parent.mkdir(parents=True, exist_ok=True)
    return file
