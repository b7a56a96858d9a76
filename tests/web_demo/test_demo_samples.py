"""The bundled sample images (no camera) and the probe images (benchmark), as served."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from flask.testing import FlaskClient
from PIL import Image

from sdk.probes import synthetic_probes
from web_demo.assets import sample_paths
from web_demo.make_samples import COUNT, render_samples


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_committed_samples_are_what_the_script_renders(tmp_path: Path) -> None:
    fresh = render_samples(tmp_path)
    committed = sample_paths()
    assert [p.name for p in fresh] == [p.name for p in committed]
    assert len(fresh) == COUNT
    for new, old in zip(fresh, committed, strict=True):
        a, b = _pixels(new), _pixels(old)
        assert a.shape == b.shape, "re-run: python -m web_demo.make_samples"
        assert np.abs(a - b).mean() < 2.0  # JPEG encoders may differ by a rounding
    shapes = [_pixels(p).shape for p in committed]
    assert sum(h > w for h, w, _ in shapes) == 1  # one portrait, for orientation handling
    assert all(p.stat().st_size < 64 * 1024 for p in committed)


def test_probe_images_are_served_losslessly(client: FlaskClient) -> None:
    """The browser benchmarks on exactly the pixels the exporter's reference was made on."""
    probes = synthetic_probes()
    for index, expected in enumerate(probes):
        response = client.get(f"/api/probes/{index}.png")
        assert response.status_code == 200 and response.mimetype == "image/png"
        with Image.open(io.BytesIO(response.data)) as im:
            assert im.format == "PNG"
            assert np.array_equal(np.asarray(im.convert("RGB")), expected)
    missing = client.get(f"/api/probes/{len(probes)}.png")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"


def test_probe_images_revalidate_with_etag(client: FlaskClient) -> None:
    first = client.get("/api/probes/0.png")
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get("/api/probes/0.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_page_lists_samples_and_probes(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "/static/samples/sample-1.jpg" in html  # shown without a camera
    assert f"/api/probes/{len(synthetic_probes()) - 1}.png" in html  # timed by the benchmark
