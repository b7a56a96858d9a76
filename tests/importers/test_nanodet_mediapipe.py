"""The imported COCO NanoDet as a MediaPipe-ready TFLite (``sdk export --format mediapipe``):
MediaPipe Tasks' own ``ObjectDetector`` (its venv, see the Makefile) finds the photos'
classes and agrees with ``sdk.load`` on the same file. This is what an Android or iOS app
on MediaPipe would ship.

The photos are letterboxed to the model's square input first (MediaPipe stretches a
non-square image where the SDK letterboxes), so both see the same pixels; MediaPipe gets
them upscaled 3x by pixel repetition, because it reports boxes in whole (truncated)
pixels, which costs a 20 px box up to 0.1 IoU (as in tests/exporters/test_mediapipe.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from sdk.boxes import greedy_match
from tests.exporters.mediapipe_clients import run_client
from tests.importers.photos import EXPECTED, photo

pytestmark = pytest.mark.slow
THRESHOLD = 0.3
UPSCALE = 3


def test_mediapipe_runs_the_imported_coco_detector(nanodet, tmp_path):
    import sdk
    from exporters.export import ExportStatus, export
    from sdk.preprocess import resize_to_input

    result = export(nanodet, "mediapipe", "fp32", out_root=tmp_path)
    assert result.status == ExportStatus.OK, result
    names = [n for n, (_, low) in EXPECTED.items() if low >= THRESHOLD]  # not the 0.27 cup
    squares = np.stack([resize_to_input(photo(n), result.spec.input)[0] for n in names])
    np.save(tmp_path / "photos.npy", squares.repeat(UPSCALE, axis=1).repeat(UPSCALE, axis=2))
    client = run_client("mediapipe", result.artifact, tmp_path / "photos.npy", THRESHOLD)
    ours = sdk.load(result.out_dir)
    for name, image, theirs in zip(names, squares, client["detections"], strict=True):
        label, low = EXPECTED[name]
        print(name, [(d["label"], round(d["score"], 3)) for d in theirs])
        assert any(d["label"] == label and d["score"] >= low for d in theirs), theirs
        want = ours.detect(image, score_threshold=THRESHOLD)
        matches = greedy_match(np.array([d.box for d in want]).reshape(-1, 4),
                               [d.label for d in want],
                               np.array([d["box"] for d in theirs], float).reshape(-1, 4)
                               / UPSCALE,
                               [d["label"] for d in theirs], 0.9)
        assert len(matches) == len(want) == len(theirs), (want, theirs)
        for m in matches:
            assert abs(want[m.reference].score - theirs[m.candidate]["score"]) <= 0.02
