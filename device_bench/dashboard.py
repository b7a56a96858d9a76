"""The ``/bench`` blueprint: the leaderboard page a person reads (table, filters, charts).

Data reaches the page's script as JSON inside ``<script type="application/json">`` (Jinja's
``tojson`` escapes ``<``, ``>`` and ``&``), and the script writes it with ``textContent``
only, so a hostile device name is shown, never run.

A page stays small whatever the database holds: the table shows ``DASHBOARD_PAGE_SIZE``
cells (``?page=``), the FPS chart the same cells, the scatter only variants with a known
mAP, and each filter box at most ``DASHBOARD_OPTIONS_MAX`` values. The aggregates come
from the short-lived cache; the page takes a read rate-limit token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from pydantic import ValidationError

from device_bench import aggregate_cache, errors, store
from device_bench.api import leaderboard_cells, variant_points
from device_bench.api_models import ReportFilters
from device_bench.db import get_db
from device_bench.read_limit import limited

bp = Blueprint(
    "device_bench_dashboard",
    __name__,
    url_prefix="/bench",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
errors.register_handlers(bp, http_errors=False)  # 429 and 503 with Retry-After

FILTER_FIELDS = ("device", "model", "format", "quantization", "runtime", "backend")


def _filters() -> ReportFilters:
    """Parse the filters; a malformed one is ignored rather than failing the page."""
    args = {k: v for k, v in request.args.items() if k in FILTER_FIELDS and v}
    try:
        return ReportFilters.model_validate(args)
    except ValidationError:
        return ReportFilters()


def _page() -> int:
    """The 1-based page number asked for (1 when absent or malformed)."""
    try:
        return max(1, min(int(request.args.get("page", "1")), 10**9))
    except ValueError:
        return 1


def _options(selected: dict[str, Any]) -> dict[str, list[str]]:
    """Values of each filter dimension for the filter boxes: at most DASHBOARD_OPTIONS_MAX
    (alphabetical), plus the selected one."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cap = int(app.config["DASHBOARD_OPTIONS_MAX"])

    def compute() -> dict[str, list[str]]:
        return {f: store.distinct_values(get_db(), f, limit=cap) for f in FILTER_FIELDS}

    options = aggregate_cache.of(app).get(("options", cap), compute)
    extra = {f: [selected[f]] for f in FILTER_FIELDS if selected.get(f) not in (None, *options[f])}
    return {f: [*extra.get(f, []), *values] for f, values in options.items()}


def _downloads(filters: dict[str, Any]) -> dict[str, str]:
    return {
        "leaderboard_csv": url_for("device_bench_api.leaderboard_csv", **filters),
        "leaderboard_json": url_for("device_bench_api.get_leaderboard", **filters),
        "reports_csv": url_for("device_bench_api.reports_csv", **filters),
        "reports_json": url_for("device_bench_api.list_reports", **filters),
    }


def _pages(filters: dict[str, Any], page: int, size: int, total: int) -> dict[str, Any]:
    """Where this page starts and ends, and the links to its neighbours."""
    last = max(1, -(-total // size))

    def link(n: int) -> str | None:
        return url_for(".index", **filters, page=n) if 1 <= n <= last else None

    return {
        "first": (page - 1) * size + 1,
        "last": min(page * size, total),
        "total": total,
        "previous": link(page - 1),
        "next": link(page + 1),
    }


def _scatter_points(filters: ReportFilters, cap: int) -> list[dict[str, Any]]:
    """The variants the scatter plots: those with a known mAP, at most ``cap`` (the frontier
    first, then the most reported), by latency."""
    points = [v for v in variant_points(filters) if v["map"] is not None]
    if len(points) > cap:
        points = sorted(points, key=lambda v: (not v["pareto"], -v["count"]))[:cap]
        points.sort(key=lambda v: v["median_latency_ms"])
    return points


@bp.get("/", strict_slashes=False)
@limited
def index() -> str:
    """Render one page of the leaderboard with filters, downloads and the two charts."""
    filters = _filters()
    size = int(current_app.config["DASHBOARD_PAGE_SIZE"])
    cells = leaderboard_cells(filters)
    page = min(_page(), max(1, -(-len(cells) // size)))  # past the end: the last page
    shown = cells[(page - 1) * size : page * size]
    variants = _scatter_points(ReportFilters(device=filters.device), size)
    return render_template(
        "device_bench_dashboard.html",
        filters=filters.as_dict(),
        options=_options(filters.as_dict()),
        cells=shown,
        pages=_pages(filters.as_dict(), page, size, len(cells)),
        min_reports=current_app.config["MIN_REPORTS"],
        downloads=_downloads(filters.as_dict()),
        chart_data={"cells": shown, "variants": variants},
    )
