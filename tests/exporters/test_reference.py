"""reference.json: the fp32 source's detections on the probe images, beside every export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporters.export import export
from sdk.exports import PARITY_FILE, reference_detections
from sdk.pipeline import as_dicts, detect_image
from sdk.probes import pixels_sha256, probe_description, synthetic_probes


@pytest.mark.slow
def test_reference_json_is_the_source_run_through_the_sdk_pipeline(source, tmp_path: Path):
    result = export(source, "tflite", "fp32", out_root=tmp_path)
    reference = reference_detections(result.out_dir)
    assert reference is not None, "reference.json missing or unreadable"

    spec, probes = source.spec, synthetic_probes()
    expected = [as_dicts(detect_image(source.reference, image, spec.input, spec.nms),
                         spec.labels) for image in probes]
    assert reference["detections"] == expected
    assert sum(map(len, expected)) > 0  # the confident test model does detect something
    assert reference["labels"] == list(spec.labels)
    assert reference["probes"] == {"description": probe_description(),
                                   "sha256": [pixels_sha256(image) for image in probes]}
    assert reference["source"] == f"keras fp32 {source.name}"
    # The parity gate ran on the same probes, and its verdict keeps its JSON string.
    parity = json.loads((result.out_dir / PARITY_FILE).read_text())
    assert parity["probes"] == probe_description() and parity["verdict"] == "pass"
