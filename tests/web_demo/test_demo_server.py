"""Server tests: pages, headers, MIME types, caching, compression and the model listing."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web_demo.headers import script_hash
from web_demo.pages import import_map_json

MODEL_URL = "/models/fast-tfjs-fp32"


@pytest.mark.parametrize("url", ["/", "/testcard", "/api/models", f"{MODEL_URL}/model.json",
                                 "/static/js/main.js", "/api/v1/protocol", "/bench/"])
def test_cross_origin_isolation_headers_on_every_response(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def _csp(client: FlaskClient) -> dict[str, str]:
    policy = client.get("/").headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_csp_allows_only_own_scripts_wasm_and_the_import_map(client: FlaskClient) -> None:
    csp = _csp(client)
    scripts = csp["script-src"].split()
    assert "'self'" in scripts and "'wasm-unsafe-eval'" in scripts
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert script_hash(import_map_json()) in scripts
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert "http" not in csp["default-src"]  # no CDN anywhere


@pytest.mark.parametrize("url", ["/", "/testcard", "/bench/"])
def test_pages_have_no_inline_code(client: FlaskClient, url: str) -> None:
    html = client.get(url).get_data(as_text=True)
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        if "src=" in attrs:
            assert not body.strip()
        else:  # data and the hashed import map only, never code
            assert re.search(r'type="(application/json|importmap)"', attrs), attrs
    assert not re.search(r"\son[a-z]+=", html)  # no onclick= style handlers
    assert "style=" not in html


def test_import_map_in_page_matches_the_hashed_one(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    inline = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert inline and inline.group(1) == import_map_json()


def test_import_map_targets_exist(client: FlaskClient) -> None:
    for url in set(json.loads(import_map_json())["imports"].values()):
        if url.startswith("/static/sdk/") and client.get(url).status_code == 404:
            pytest.skip("the browser runtime (sdk/js) is not there yet")
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(("url", "mime"), [
    ("/static/vendor/tfjs-backend-wasm/tfjs-backend-wasm.wasm", "application/wasm"),
    ("/static/vendor/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm", "application/wasm"),
    ("/static/vendor/tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm", "application/wasm"),
    ("/static/vendor/tfjs/tf.fesm.min.js", "text/javascript"),
    (f"{MODEL_URL}/model.json", "application/json"),
    (f"{MODEL_URL}/detector.json", "application/json"),
    (f"{MODEL_URL}/group1-shard1of1.bin", "application/octet-stream"),
    ("/static/js/main.js", "text/javascript"),
    ("/static/css/demo.css", "text/css"),
    ("/static/samples/sample-1.jpg", "image/jpeg"),
])
def test_mime_types(client: FlaskClient, url: str, mime: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == mime


def test_model_shards_revalidate_with_etag(client: FlaskClient) -> None:
    first = client.get(f"{MODEL_URL}/group1-shard1of1.bin")
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(f"{MODEL_URL}/group1-shard1of1.bin", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data


def test_rebuilt_model_gets_a_new_etag(client: FlaskClient, exports_dir: Path) -> None:
    shard = exports_dir / "fast-tfjs-fp32" / "group1-shard1of1.bin"
    etag = client.get(f"{MODEL_URL}/group1-shard1of1.bin").headers["ETag"]
    shard.write_bytes(b"rebuilt weights")
    response = client.get(f"{MODEL_URL}/group1-shard1of1.bin", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.data == b"rebuilt weights"


def test_text_is_gzipped_and_conditional_get_still_works(client: FlaskClient) -> None:
    url = "/static/vendor/tfjs/tf.fesm.min.js"
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    again = client.get(url, headers={"Accept-Encoding": "gzip",
                                     "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


def test_small_and_binary_responses_are_not_compressed(client: FlaskClient) -> None:
    shard = client.get(f"{MODEL_URL}/group1-shard1of1.bin", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in shard.headers
    favicon = client.get("/static/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in favicon.headers  # below COMPRESS_MIN_BYTES


def test_api_json_is_compressed(client: FlaskClient) -> None:
    response = client.get("/api/models", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b'"variants"' in gzip.decompress(response.data)


def test_page_offers_the_phone_essentials(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert re.search(r"<video[^>]*\bplaysinline\b[^>]*\bmuted\b[^>]*\bautoplay\b", html)
    for element in ('id="upload"', 'type="file"', 'id="sample"', 'id="bench-run"',
                    'id="backend-select"', 'id="threshold"', 'id="camera-switch"'):
        assert element in html
    for backend in ("auto", "webgl", "wasm", "webgpu"):
        assert f'<option value="{backend}">' in html
    assert "sample-1.jpg" in html  # bundled samples listed for the no-camera fallback
    assert "https" in html.lower() and "certificate" in html  # how to accept it on a phone


def test_testcard_draws_the_generator_shapes(client: FlaskClient) -> None:
    from sdk.data.shapes import CLASSES

    html = client.get("/testcard").get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="shapes-data">(.*?)</script>', html,
                     re.S)
    shapes = json.loads(data.group(1))
    assert [s["label"] for s in shapes] == list(CLASSES)
    circle = next(s for s in shapes if s["label"] == "circle")
    assert len(circle["points"]) == 48  # the generator's 48-gon, not a canvas arc


def test_favicon_is_quiet(client: FlaskClient) -> None:
    assert client.get("/favicon.ico").status_code == 204


def test_unknown_page_is_html_and_unknown_api_is_json(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json["error"] == "not_found"
