"""From ``make demo`` to a phone to a recommendation, out of the box, with real components.

The path a new user takes: the Makefile's export line (the bundled Fast, fp32 only) and its
serve line (on loopback with ``--https``, what a LAN interface gets by default), a
phone-sized headless Chromium with a fake camera accepting the self-signed certificate,
the live boxes, **Run benchmark**, the leaderboard's frontier, and ``sdk recommend``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sdk.exports import export_dirname, variant_accuracy
from tests.web_demo.demo_browser import CHROMIUM, PHONE, chromium_args
from tests.web_demo.fake_camera import camera_frame, write_y4m
from tests.web_demo.make_demo import ROOT, demo_recipe
from tests.web_demo.sdk_serve import SDK, Served, start_serve, stop
from web_demo.assets import sample_paths
from web_demo.certs import CERT_FILE

pytestmark = [pytest.mark.slow, pytest.mark.browser]
playwright_api = pytest.importorskip("playwright.sync_api")

VARIANT = export_dirname("fast", "tfjs", "fp32")
WAIT_MS = 180_000  # the real model's first inference in software wasm on 2 loaded cores
DEVICE = "Pixel 7"  # what the page reports for the phone user agent of demo_browser.PHONE


@pytest.fixture(scope="module")
def demo(make_demo_export: tuple[list[str], Path],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A fresh ``sdk serve`` from the Makefile's serve line, over HTTPS, on loopback."""
    serve_line = demo_recipe()[-1]
    assert serve_line[1] == "serve"
    served = start_serve(tmp_path_factory.mktemp("demo"), "--https",
                         exports=make_demo_export[1], command=serve_line)
    yield served
    stop(served)


@pytest.fixture(scope="module")
def phone(demo: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A phone-sized page whose camera films a sample scene of shapes."""
    clip = write_y4m(tmp_path_factory.mktemp("camera") / "clip.y4m",
                     camera_frame(sample_paths()[0]))
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(clip))
        # What the person does on the warning page: accept the self-signed certificate.
        context = browser.new_context(**PHONE, ignore_https_errors=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield SimpleNamespace(page=page, errors=errors)
        browser.close()


def _until(page: Any, expression: str, timeout_ms: int = WAIT_MS) -> None:
    """Poll a JS expression until truthy (the demo's CSP forbids wait_for_function's eval)."""
    waited = 0
    while not page.evaluate(expression):
        assert waited < timeout_ms, f"timed out waiting for {expression}"
        page.wait_for_timeout(200)
        waited += 200


def test_phone_to_recommendation(demo: Served, phone: SimpleNamespace,
                                 make_demo_export: tuple[list[str], Path]) -> None:
    page, exports = phone.page, make_demo_export[1]
    expected_map = variant_accuracy(exports / VARIANT)
    assert expected_map.basis == "artifact" and expected_map.map is not None  # measured

    # 1. The camera shows boxes (over HTTPS: a secure context, so the camera is allowed).
    page.goto(f"{demo.url}/?variant={VARIANT}&backend=wasm")
    assert page.evaluate("window.isSecureContext") is True
    page.wait_for_selector(f"body[data-detector=ready][data-variant='{VARIANT}']",
                            state="attached", timeout=WAIT_MS)
    page.wait_for_selector("body[data-camera=on]", state="attached", timeout=WAIT_MS)
    _until(page, "document.querySelectorAll('#detections li').length > 0")
    assert page.is_visible("#video")

    # 2. Run benchmark stores a report carrying the variant's mAP.
    page.click("#bench-run")
    _until(page, "document.body.dataset.outbox === '0' && "
                  "/stored/.test(document.getElementById('outbox-status').textContent)")
    records = page.evaluate("fetch('/api/v1/reports').then(r => r.json())")["items"]
    record = records[0]
    report = record["report"]
    assert report["device"]["name"] == DEVICE
    assert report["model"]["name"] == "fast" and report["model"]["quantization"] == "fp32"
    assert report["model"]["map"] == pytest.approx(expected_map.map)
    assert report["model"]["map_basis"] == "artifact"
    assert record["valid"], record["reasons"]

    # 3. The leaderboard's speed/accuracy frontier plots that variant.
    page.goto(f"{demo.url}/bench/?device={DEVICE.replace(' ', '+')}")
    page.wait_for_selector("#pareto-legend li", state="attached", timeout=30_000)
    legend = page.text_content("#pareto-legend")
    assert "fast/tfjs/fp32" in legend and "frontier" in legend
    assert page.locator("#pareto-chart circle").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

    # 4. sdk recommend names it, through the same HTTPS server.
    result = subprocess.run(
        [str(SDK), "recommend", "--device", DEVICE, "--min-fps", "1", "--server", demo.url,
         "--cacert", str(demo.cert_dir / CERT_FILE), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = json.loads(result.stdout)
    assert row["variant"] == "fast/tfjs/fp32" and row["runtime"] == "tfjs"  # export and engine
    assert row["map"] == pytest.approx(expected_map.map)
    assert phone.errors == []
