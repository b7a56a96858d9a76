"""``/bench``: the leaderboard page renders, filters, links downloads and escapes user text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import device_bench
from benchmarks.example_reports import example_report, with_latency

HOSTILE = "<script>alert(1)</script>"


def _chart_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="bench-data">(.*?)</script>', html, re.S)
    assert match, "chart data block missing"
    return json.loads(match.group(1))


def test_empty_dashboard_renders(client: Any) -> None:
    resp = client.get("/bench")
    assert resp.status_code == 200
    assert "No valid report matches these filters yet." in resp.text
    assert _chart_data(resp.text) == {"cells": [], "variants": []}


def test_hostile_device_name_is_escaped(post: Any, client: Any) -> None:
    for _ in range(3):
        post(example_report({"device": {"name": HOSTILE}}))
    html = client.get(f"/bench/?device={HOSTILE}").text
    assert HOSTILE not in html and "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # table cell and input value
    assert _chart_data(html)["cells"][0]["device"] == HOSTILE  # JSON block: \u003c escaped


def test_table_filters_and_download_links(post: Any, client: Any) -> None:
    for p50 in (10.0, 20.0, 40.0):
        post(with_latency(example_report(), p50))
    post(example_report({"device": {"name": "Galaxy S24"}, "runtime": {"backend": "wasm"}}))
    html = client.get("/bench/?backend=webgl").text
    assert "Pixel 7" in html and "Galaxy S24" not in html.split("<tbody>")[1]
    assert '<option value="webgl" selected>' in html
    assert 'href="/api/v1/leaderboard.csv?backend=webgl"' in html
    assert 'href="/api/v1/reports.csv?backend=webgl"' in html
    assert "50.0" in html  # median FPS of the Pixel cell
    low = client.get("/bench/?backend=wasm").text
    assert 'class="low-count"' in low


def test_engine_column_and_filter(post: Any, client: Any) -> None:
    tflite = {"format": "tflite", "quantization": "int8"}
    post(example_report({"model": tflite, "runtime": {"name": "litert", "backend": "wasm"}}))
    post(example_report({"model": {"format": "onnx", "quantization": "int8"},
                         "runtime": {"name": "ort", "backend": "wasm"}}))
    html = client.get("/bench/").text
    body = html.split("<tbody>")[1]
    assert "<th>Engine</th>" in html
    assert '<td data-label="Engine">litert</td>' in body
    assert '<td data-label="Engine">ort</td>' in body
    filtered = client.get("/bench/?runtime=ort").text
    assert '<option value="ort" selected>' in filtered
    assert "litert</td>" not in filtered.split("<tbody>")[1]
    assert [c["runtime"] for c in _chart_data(filtered)["cells"]] == ["ort"]


def test_scatter_data_carries_the_frontier(post: Any, client: Any) -> None:
    post(example_report())
    post(with_latency(example_report({"model": {"name": "accurate"}}), 80.0))
    variants = _chart_data(client.get("/bench/").text)["variants"]
    assert [(v["variant"], v["map"], v["pareto"]) for v in variants] == [
        ("fast/tfjs/fp16", 0.30, True),
        ("accurate/tfjs/fp16", 0.41, True),
    ]


def test_static_assets_are_served_and_never_use_inner_html(client: Any) -> None:
    for name in ("dashboard.js", "dashboard.css"):
        resp = client.get(f"/bench/static/{name}")
        assert resp.status_code == 200
        resp.close()
    script = Path(device_bench.__file__).parent / "static" / "dashboard.js"
    code = script.read_text()
    assert "innerHTML" not in code.replace("never innerHTML", "")
    assert "textContent" in code
