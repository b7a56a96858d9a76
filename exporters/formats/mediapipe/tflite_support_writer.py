"""Write the object-detector TFLite Metadata into a model; run in the tflite-support venv.

This file is a script for the interpreter of ``.venvs/tflite-support`` (tflite-support
0.4.4 needs protobuf<4, TensorFlow 2.19 protobuf 5: they cannot share a venv), started by
:mod:`exporters.formats.mediapipe.metadata`. It imports nothing from the repository.

It writes what MediaPipe Tasks and the TFLite Task Library read: the input normalization,
the label file on the category output and the output names (location, category, score,
number of detections), with tflite-support's own
``metadata_writers.object_detector.MetadataWriter.create_for_inference``; and packs
``detector.json`` as a second associated file, recorded in the model metadata, so the
SDK's runtimes find the contract inside the ``.tflite``.

Prints the populated metadata as JSON on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the .tflite, rewritten in place")
    parser.add_argument("--labels", type=Path, required=True, help="labels.txt, one a line")
    parser.add_argument("--detector-json", type=Path, required=True)
    parser.add_argument("--mean", type=float, nargs="+", required=True)
    parser.add_argument("--std", type=float, nargs="+", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--description", default="")
    args = parser.parse_args(argv)

    from tflite_support import flatbuffers
    from tflite_support import metadata as _metadata
    from tflite_support import metadata_schema_py_generated as _metadata_fb
    from tflite_support.metadata_writers import object_detector

    model = bytearray(args.model.read_bytes())
    writer = object_detector.MetadataWriter.create_for_inference(
        model, input_norm_mean=args.mean, input_norm_std=args.std,
        label_file_paths=[str(args.labels)])
    buffer = _metadata.MetadataDisplayer.with_model_buffer(
        writer.populate()).get_metadata_buffer()

    root = _metadata_fb.ModelMetadataT.InitFromObj(
        _metadata_fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0))
    root.name = args.name or root.name
    root.description = args.description or root.description
    contract = _metadata_fb.AssociatedFileT()
    contract.name = args.detector_json.name
    contract.description = "The SDK's detector contract (preprocessing, labels, outputs, NMS)."
    contract.type = _metadata_fb.AssociatedFileType.UNKNOWN
    root.associatedFiles = [*(root.associatedFiles or []), contract]
    builder = flatbuffers.Builder(0)
    builder.Finish(root.Pack(builder), _metadata.MetadataPopulator.METADATA_FILE_IDENTIFIER)

    final = object_detector.MetadataWriter(  # the base MetadataWriter's constructor
        model, builder.Output(), [str(args.labels), str(args.detector_json)])
    tmp = args.model.with_name(args.model.name + ".tmp")
    tmp.write_bytes(final.populate())
    tmp.replace(args.model)
    sys.stdout.write(final.get_populated_metadata_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
