"""The ``/bench`` blueprint: the leaderboard page a person reads (table, filters, charts).

Data reaches the page's script as JSON inside ``<script type="application/json">`` (Jinja's
``tojson`` escapes ``<``, ``>`` and ``&``), and the script writes it with ``textContent``
only, so a hostile device name is shown, never run.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from pydantic import ValidationError

from device_bench import leaderboard, store
from device_bench.api_models import ReportFilters
from device_bench.db import get_db

bp = Blueprint(
    "device_bench_dashboard",
    __name__,
    url_prefix="/bench",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

FILTER_FIELDS = ("device", "model", "format", "quantization", "backend")


def _filters() -> ReportFilters:
    """Parse the filters; a malformed one is ignored rather than failing the page."""
    args = {k: v for k, v in request.args.items() if k in FILTER_FIELDS and v}
    try:
        return ReportFilters.model_validate(args)
    except ValidationError:
        return ReportFilters()


def _options() -> dict[str, list[str]]:
    """Distinct values of each filter dimension, for the select boxes."""
    return {f: store.distinct_values(get_db(), f) for f in FILTER_FIELDS}


def _downloads(filters: dict[str, Any]) -> dict[str, str]:
    return {
        "leaderboard_csv": url_for("device_bench_api.leaderboard_csv", **filters),
        "leaderboard_json": url_for("device_bench_api.get_leaderboard", **filters),
        "reports_csv": url_for("device_bench_api.reports_csv", **filters),
        "reports_json": url_for("device_bench_api.list_reports", **filters),
    }


@bp.get("/", strict_slashes=False)
def index() -> str:
    """Render the leaderboard with filters, downloads and the two charts."""
    filters = _filters()
    conn = get_db()
    cells = leaderboard.cells(
        store.iter_samples(conn, filters.as_dict()), int(current_app.config["MIN_REPORTS"])
    )
    device_only = {"device": filters.device} if filters.device else {}
    variants = leaderboard.variants(
        store.iter_samples(conn, device_only), current_app.config["MODEL_METRICS"] or {}
    )
    return render_template(
        "device_bench_dashboard.html",
        filters=filters.as_dict(),
        options=_options(),
        cells=cells,
        min_reports=current_app.config["MIN_REPORTS"],
        downloads=_downloads(filters.as_dict()),
        chart_data={"cells": cells, "variants": variants},
    )
