"""The bundled sample images and the fp32 reference detections computed on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from web_demo import reference
from web_demo.make_samples import COUNT, render_samples


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_committed_samples_are_what_the_script_renders(tmp_path: Path) -> None:
    fresh = render_samples(tmp_path)
    committed = reference.probe_paths()
    assert [p.name for p in fresh] == [p.name for p in committed]
    assert len(fresh) == COUNT
    for new, old in zip(fresh, committed, strict=True):
        a, b = _pixels(new), _pixels(old)
        assert a.shape == b.shape, "re-run: python -m web_demo.make_samples"
        assert np.abs(a - b).mean() < 2.0  # JPEG encoders may differ by a rounding
    shapes = [_pixels(p).shape for p in committed]
    assert sum(h > w for h, w, _ in shapes) == 1  # one portrait, for orientation handling
    assert all(p.stat().st_size < 64 * 1024 for p in committed)


def test_reference_from_trained_weights(tmp_path: Path, tiny_fast: Path) -> None:
    path = reference.build(tmp_path, "fast", source=tiny_fast)
    data = json.loads(path.read_text())
    assert data["model"] == "fast"
    assert [p["name"] for p in data["probes"]] == [p.name for p in reference.probe_paths()]
    assert reference.is_current(tmp_path, "fast")
    assert not reference.is_current(tmp_path, "accurate")
    for probe in data["probes"]:
        for det in probe["detections"]:
            assert set(det) == {"box", "label", "score"}
            assert 0 <= det["box"][0] <= det["box"][2] <= probe["width"]
