"""Sending files from a fixed folder: never outside it, always with the right MIME type.

Every file route of the demo (static assets, the browser runtime, the npm packages and the
model exports) goes through :func:`send_inside`, so the traversal rules live in one place:
``..`` and absolute paths are refused by ``safe_join``, symlinks must resolve inside the
folder, and hidden files (exports still being written, editor backups) are never served.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from flask import Response, abort, send_file
from werkzeug.security import safe_join

# Explicit types for what the demo serves: browsers refuse to compile a .wasm that is not
# application/wasm (streaming compile), and Python's table differs between versions/distros.
MIME_TYPES: dict[str, str] = {
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".map": "application/json",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


def mimetype_for(filename: str) -> str:
    """MIME type of ``filename`` by extension (``application/octet-stream`` if unknown)."""
    ext = os.path.splitext(filename)[1].lower()
    guessed = mimetypes.guess_type(filename)[0]
    return MIME_TYPES.get(ext) or guessed or "application/octet-stream"


def resolve_inside(root: str | Path, filename: str) -> Path | None:
    """Absolute path of ``root/filename`` if it is a regular, visible file inside ``root``."""
    if "\x00" in filename:  # no file has one; os.path.realpath would raise (a 500)
        return None
    joined = safe_join(str(root), filename)
    if joined is None or any(part.startswith(".") for part in Path(filename).parts):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    # A symlink inside the folder may point anywhere: judge where it really leads.
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        return None
    return Path(real)


def send_inside(root: str | Path, filename: str) -> Response:
    """Send ``root/filename`` with ETag + ``Cache-Control: no-cache``, or raise 404.

    ``no-cache`` means "revalidate before use", not "do not store": a browser keeps the
    file and a conditional GET answers 304 while the ETag matches, so a rebuilt export
    (same file names, new content) is never served stale.
    """
    path = resolve_inside(root, filename)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=mimetype_for(filename), conditional=True, etag=True)
    response.cache_control.no_cache = True
    response.cache_control.public = True
    response.cache_control.max_age = None
    return response
