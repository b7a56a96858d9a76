"""gzip for text responses (HTML, JSON, JavaScript, CSS) and WASM, when the client accepts it.

A tiny ``after_request`` instead of a dependency. Compressed files are cached by ETag, so
the 1.4 MB TF.js bundle is compressed once per process, not per request. The ETag becomes
weak after compression (the bytes differ from the file's), which keeps conditional GETs
working: ``If-None-Match`` uses the weak comparison.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

from flask import Flask, Response, current_app, request

COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "image/svg+xml", "text/plain", "text/csv", "application/wasm",
})
CACHE_ENTRIES = 64  # the demo serves a few dozen distinct files
_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_cache_lock = threading.Lock()


def _wanted(response: Response) -> bool:
    return (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
        # File responses are "streamed" through a file wrapper we may read; generators are not.
        and (response.direct_passthrough or not response.is_streamed)
        and "gzip" in request.accept_encodings
    )


def _gzip(key: tuple[str, str] | None, data: bytes) -> bytes:
    if key is None:
        return gzip.compress(data, compresslevel=6, mtime=0)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    body = gzip.compress(data, compresslevel=6, mtime=0)
    with _cache_lock:
        _cache[key] = body
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return body


def compress_response(response: Response) -> Response:
    """gzip ``response`` in place when worthwhile; always vary on Accept-Encoding."""
    if response.mimetype in COMPRESSIBLE:
        response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if response.status_code == 304 and etag and not weak and "gzip" in request.accept_encodings:
        response.set_etag(etag, weak=True)  # the same validator the gzipped 200 carried
    if not _wanted(response):
        return response
    response.direct_passthrough = False  # file responses: read the file into memory
    data = response.get_data()
    if len(data) < int(current_app.config["COMPRESS_MIN_BYTES"]):
        return response
    response.set_data(_gzip((request.path, etag) if etag else None, data))
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    app.after_request(compress_response)
