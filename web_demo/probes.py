"""The benchmark's probe images, served to the browser as lossless PNG.

They are :func:`sdk.probes.synthetic_probes`, the one probe set of the parity gate and
``sdk bench``: every export's ``reference.json`` holds the fp32 source's detections on these
very pixels, so the browser's accuracy fingerprint compares like with like. PNG, not JPEG,
because a lossy re-encoding would change the pixels the reference was computed on. Rendering
and encoding take about two seconds, done once per process on first use.

* ``GET /api/probes/<index>.png``: one probe image.
"""

from __future__ import annotations

import functools
import hashlib
import io

from flask import Blueprint, Response, abort, request

from sdk.probes import DEFAULT_PROBES, pixels_sha256, synthetic_probes

bp = Blueprint("probes", __name__)


@functools.cache
def probe_sha256s() -> tuple[str, ...]:
    """Pixel sha256 of every probe image, the identity ``reference.json`` records."""
    return tuple(pixels_sha256(image) for image in synthetic_probes())


@functools.cache
def probe_png(index: int) -> bytes:
    """Probe image ``index`` encoded as PNG (cached: the pixels never change)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(synthetic_probes()[index]).save(buffer, "PNG")
    return buffer.getvalue()


def probe_urls() -> list[str]:
    """URLs of the probe images, in probe order (without rendering them)."""
    return [f"/api/probes/{i}.png" for i in range(DEFAULT_PROBES)]


@bp.get("/api/probes/<int:index>.png")
def probe(index: int) -> Response:
    """One probe image, revalidated by ETag like the model files."""
    if index >= DEFAULT_PROBES:
        abort(404)
    data = probe_png(index)
    response = Response(data, mimetype="image/png")
    response.set_etag(hashlib.sha256(data).hexdigest())
    response.cache_control.no_cache = True
    response.cache_control.public = True
    return response.make_conditional(request)
