"""The export's metadata: the TFLite Metadata MediaPipe reads, and ``detector.json``.

* ``detector.json`` as the named FlatBuffer metadata entry of the ``tflite`` format
  (:func:`exporters.formats.tflite.metadata.embed_json`);
* the object-detector TFLite Metadata (input normalization, label file, output names) and
  ``detector.json`` as associated files, written by tflite-support in its own venv
  (:mod:`.tflite_support_writer`): MediaPipe Tasks and the Task Library refuse a detector
  without it, and the SDK's runtimes read ``detector.json`` from the associated files.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from exporters.errors import ExportError
from exporters.formats.tflite import metadata as tflite_metadata
from sdk.spec import DetectorSpec

PYTHON_ENV = "SDK_TFLITE_SUPPORT_PYTHON"
REPO = Path(__file__).resolve().parents[3]
DEFAULT_PYTHON = REPO / ".venvs" / "tflite-support" / "bin" / "python"
WRITER = Path(__file__).with_name("tflite_support_writer.py")
LABELS_FILE = "labels.txt"
TFLITE_METADATA = "TFLITE_METADATA"  # the metadata entry tflite-support writes
WRITER_TIMEOUT_S = 300
# Output names the object-detector metadata gives, in our role names (sdk.spec OutputSpec).
METADATA_OUTPUTS = {"locations": "location", "classes": "category", "scores": "score",
                    "num_detections": "number of detections"}


def tflite_support_python() -> Path:
    """The interpreter of the tflite-support venv (``$SDK_TFLITE_SUPPORT_PYTHON`` or the
    repository's ``.venvs/tflite-support``).

    Raises:
        ExportError: it does not exist, with how to create it.
    """
    given = os.environ.get(PYTHON_ENV)
    python = Path(given) if given else DEFAULT_PYTHON
    if not python.is_file():
        where = f"{PYTHON_ENV}={given}" if given else str(python)
        raise ExportError(
            f"mediapipe: the tflite-support interpreter {where} does not exist; it writes the "
            f"TFLite Metadata MediaPipe needs. Create it with `make setup` (or: python3.11 -m "
            f"venv .venvs/tflite-support && .venvs/tflite-support/bin/pip install "
            f"tflite-support==0.4.4; it also needs the Debian package libusb-1.0-0), or "
            f"point {PYTHON_ENV} at a Python with tflite-support 0.4.4")
    return python


def _strip_archive(path: Path) -> None:
    """Drop the associated-file archive appended after the FlatBuffer (re-serialize it)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(path.read_bytes()))
    path.write_bytes(bytes(flatbuffer_utils.convert_object_to_bytearray(model)))


def _values(per_channel: tuple[float, ...]) -> list[str]:
    """One value when the channels agree: MediaPipe refuses per-channel normalization."""
    return [str(v) for v in (per_channel[:1] if len(set(per_channel)) == 1 else per_channel)]


def embed(artifact: Path, spec: DetectorSpec) -> dict[str, Any]:
    """Write both metadata into ``artifact``; returns the populated TFLite Metadata.

    Raises:
        ExportError: no tflite-support interpreter, or its writer failed (its stderr).
    """
    python = tflite_support_python()
    text = spec.to_json()
    tflite_metadata.embed_json(artifact, text)
    # tflite-support refuses to pack a file already in the appended archive; it writes
    # one archive holding both labels.txt and detector.json.
    _strip_archive(artifact)
    with tempfile.TemporaryDirectory(prefix="mediapipe-metadata-") as tmp:
        labels = Path(tmp) / LABELS_FILE
        labels.write_text("".join(f"{label}\n" for label in spec.labels))
        contract = Path(tmp) / tflite_metadata.METADATA_NAME
        contract.write_text(text)
        arch = spec.provenance.get("architecture", "detector")
        cmd = [str(python), str(WRITER), str(artifact), "--labels", str(labels),
               "--detector-json", str(contract),
               "--mean", *_values(spec.input.mean), "--std", *_values(spec.input.std),
               "--name", f"{arch} ({', '.join(spec.labels)})",
               "--description", "Object detector exported by ondevice-detect-sdk; "
                                "outputs from TFLite_Detection_PostProcess."]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=WRITER_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise ExportError(f"mediapipe: the metadata writer ({python}) did not finish in "
                              f"{WRITER_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ExportError(f"mediapipe: the metadata writer ({python} {WRITER.name}) failed "
                          f"with exit code {done.returncode}:\n{tail}")
    return json.loads(done.stdout)


def output_metadata_names(populated: dict[str, Any]) -> list[str]:
    """The output tensor names of populated TFLite Metadata, in the model's output order."""
    (subgraph,) = populated["subgraph_metadata"]
    return [t["name"] for t in subgraph["output_tensor_metadata"]]


def packed_files(artifact: Path) -> list[str]:
    """Names of the associated files appended to ``artifact`` (stdlib zip reader)."""
    import zipfile

    if not zipfile.is_zipfile(artifact):
        return []
    with zipfile.ZipFile(artifact) as archive:
        return sorted(archive.namelist())


def has_tflite_metadata(artifact: Path) -> bool:
    """Whether ``artifact`` holds the ``TFLITE_METADATA`` entry MediaPipe reads."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(artifact.read_bytes()))
    names = [e.name.decode() if isinstance(e.name, bytes) else e.name
             for e in model.metadata or []]
    return TFLITE_METADATA in names
