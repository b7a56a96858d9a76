"""The HTML pages: the live demo (``/``) and the test card (``/testcard``).

Pages carry no inline code. Data a script needs travels in ``<script type="application/json">``
(not executed, so not subject to the CSP); the import map is the one inline script and the
CSP allows it by hash (:func:`import_map_json` is computed once, so the hash is stable).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
from flask import Blueprint, Response, render_template, url_for

from web_demo.assets import IMPORTS, sample_paths
from web_demo.probes import probe_urls

bp = Blueprint("pages", __name__)

@functools.cache
def import_map_json() -> str:
    """The page's import map, serialised once (its bytes are hashed into the CSP)."""
    return json.dumps({"imports": IMPORTS}, indent=1)


@functools.cache
def testcard_shapes() -> list[dict[str, Any]]:
    """Unit polygons of the synthetic classes, straight from the generator's definitions."""
    from sdk.data.shapes import CLASSES, unit_shape

    rng = np.random.default_rng(0)  # star and cross proportions vary a little per object
    return [{"label": kind, "points": np.round(unit_shape(kind, rng), 4).tolist()}
            for kind in CLASSES]


@bp.get("/")
def index() -> str:
    """The live demo."""
    samples = [{"name": p.name, "url": url_for("assets.static", filename=f"samples/{p.name}")}
               for p in sample_paths()]
    return render_template("index.html", import_map=import_map_json(),
                           page={"samples": samples, "probes": probe_urls()})


@bp.get("/testcard")
def testcard() -> str:
    """The synthetic dataset's classes drawn big, to point a phone at."""
    return render_template("testcard.html", shapes=testcard_shapes())


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it whatever the page says; answer without a 404 in the console."""
    return Response(status=204)
