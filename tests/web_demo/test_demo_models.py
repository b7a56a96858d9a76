"""Model routes: listing with status, only files inside export folders, missing models,
and the reference detections each export carries (reference.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sdk.exports import REFERENCE_FILE
from sdk.probes import pixels_sha256, synthetic_probes
from sdk.spec import DetectorSpec
from tests.web_demo.fake_exports import write_fake_export
from web_demo.variants import artifact_sha256, parse_name

MODEL_URL = "/models/fast-tfjs-fp32"


def _variants(client: FlaskClient) -> dict[str, dict]:
    return {v["name"]: v for v in client.get("/api/models").json["variants"]}


def test_listing_has_configured_variants_with_status(client: FlaskClient,
                                                     exports_dir: Path) -> None:
    body = client.get("/api/models").json
    names = [v["name"] for v in body["variants"]]
    assert names == ["fast-tfjs-fp32", "fast-tfjs-fp16", "accurate-tfjs-fp32",
                     "accurate-tfjs-fp16"]
    ready = body["variants"][0]
    assert ready["status"] == "ready" and ready["url"] == f"{MODEL_URL}/"
    assert ready["sha256"] == artifact_sha256(exports_dir / "fast-tfjs-fp32")
    assert ready["input_size"] == [96, 96] and ready["reference"] is True
    assert body["default"] == "fast-tfjs-fp32"
    missing = body["variants"][1]
    assert missing["status"] == "missing"
    assert "sdk export --format tfjs --model fast --quantize fp16" in missing["message"]


def test_extra_complete_exports_are_offered(client: FlaskClient, exports_dir: Path) -> None:
    write_fake_export(exports_dir / "my-model-tfjs-uint8")
    (exports_dir / "half-done-tfjs-fp32").mkdir()  # no detector.json: not offered
    write_fake_export(exports_dir / ".mine-tfjs-fp16.tmp-1234")  # an export being written
    write_fake_export(exports_dir / "fast-coreml-fp16")  # a format no browser runs
    tflite = write_fake_export(exports_dir / "fast-tflite-fp32")  # LiteRT.js runs it
    (tflite / "model.tflite").write_bytes(b"TFL3 stand-in")
    (exports_dir / "notes").mkdir()
    variants = _variants(client)
    assert variants["my-model-tfjs-uint8"]["status"] == "ready"
    assert variants["my-model-tfjs-uint8"]["model"] == "my-model"
    assert set(variants) == {"fast-tfjs-fp32", "fast-tfjs-fp16", "accurate-tfjs-fp32",
                             "accurate-tfjs-fp16", "my-model-tfjs-uint8", "fast-tflite-fp32"}
    assert variants["fast-tflite-fp32"]["format"] == "tflite"
    assert variants["fast-tflite-fp32"]["sha256"] == artifact_sha256(tflite)


def test_sha256_changes_when_a_shard_changes(exports_dir: Path) -> None:
    folder = exports_dir / "fast-tfjs-fp32"
    before = artifact_sha256(folder)
    (folder / "group1-shard1of1.bin").write_bytes(b"other weights")
    assert artifact_sha256(folder) != before


def test_no_model_at_all(app_config: dict, tmp_path: Path) -> None:
    from device_bench.db import shutdown
    from web_demo import create_app

    app = create_app({**app_config, "EXPORTS_DIR": str(tmp_path / "nothing")})
    try:
        client = app.test_client()
        body = client.get("/api/models").json
        assert body["default"] is None
        assert {v["status"] for v in body["variants"]} == {"missing"}
        assert "make demo" in body["hint"] and "sdk export --format tfjs" in body["hint"]
        assert client.get("/").status_code == 200  # the page itself explains what is missing
        assert not (tmp_path / "nothing").exists()  # the server builds nothing
    finally:
        shutdown(app)


@pytest.mark.parametrize("url", [
    "/models/fast-tfjs-fp16/model.json",  # offered but not built
    "/models/nope-tfjs-fp32/model.json",
    "/models/not-a-variant/model.json",
])
def test_missing_model_is_a_json_404(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.json["error"] == "model_not_found"
    assert "not available" in response.json["message"]
    assert "make demo" in response.json["message"]


def test_missing_file_in_a_model_is_a_json_404(client: FlaskClient) -> None:
    response = client.get(f"{MODEL_URL}/group9-shard1of1.bin")
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize("path", [
    "../fast-tfjs-fp16/model.json",
    "..%2f..%2fsecret.txt",
    "..%2F..%2Fsecret.txt",
    "%2e%2e/%2e%2e/secret.txt",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "..\\..\\secret.txt",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    ".tmp/model.json",
    "./.hidden",
])
def test_path_traversal_is_refused(client: FlaskClient, exports_dir: Path, path: str) -> None:
    (exports_dir.parent / "secret.txt").write_text("top secret")
    (exports_dir / "fast-tfjs-fp32" / ".hidden").write_text("hidden")
    # "//etc/passwd" is first redirected (merged slashes) to a path inside the folder.
    response = client.get(f"{MODEL_URL}/{path}", follow_redirects=True)
    assert response.status_code == 404
    assert b"top secret" not in response.data and b"hidden" not in response.data


@pytest.mark.parametrize("prefix", ["/static", "/static/sdk", "/static/vendor/tfjs"])
def test_path_traversal_is_refused_on_static_routes(client: FlaskClient, prefix: str) -> None:
    for path in ("..%2f..%2fpyproject.toml", "../../pyproject.toml", "..%2f..%2f..%2fetc/passwd"):
        response = client.get(f"{prefix}/{path}")
        assert response.status_code == 404, (prefix, path)
        assert b"[project]" not in response.data


def test_vendor_serves_only_known_packages(client: FlaskClient) -> None:
    assert client.get("/static/vendor/tfjs/tf.fesm.min.js").status_code == 200
    assert client.get("/static/vendor/.bin/anything").status_code == 404
    assert client.get("/static/vendor/tfjs-node/index.js").status_code == 404


def test_symlink_escaping_the_export_folder_is_refused(client: FlaskClient,
                                                       exports_dir: Path) -> None:
    secret = exports_dir.parent / "secret.txt"
    secret.write_text("top secret")
    folder = exports_dir / "fast-tfjs-fp32"
    os.symlink(secret, folder / "leak.bin")
    os.symlink(exports_dir.parent, folder / "up")
    assert client.get(f"{MODEL_URL}/leak.bin").status_code == 404
    assert client.get(f"{MODEL_URL}/up/secret.txt").status_code == 404


def test_symlinked_variant_folder_pointing_outside_is_not_served(
        client: FlaskClient, exports_dir: Path, tmp_path: Path) -> None:
    """A whole export folder may be a symlink (e.g. to a shared disk); files resolve there."""
    elsewhere = write_fake_export(tmp_path / "shared" / "model")
    os.symlink(elsewhere, exports_dir / "linked-tfjs-fp32")
    assert client.get("/models/linked-tfjs-fp32/model.json").status_code == 200
    assert client.get("/models/linked-tfjs-fp32/..%2f..%2fexports/x").status_code == 404


def test_symlink_inside_the_folder_is_served(client: FlaskClient, exports_dir: Path) -> None:
    folder = exports_dir / "fast-tfjs-fp32"
    os.symlink(folder / "detector.json", folder / "alias.json")
    assert client.get(f"{MODEL_URL}/alias.json").status_code == 200


def test_reference_detections_for_the_benchmark(client: FlaskClient, exports_dir: Path) -> None:
    written = json.loads((exports_dir / "fast-tfjs-fp32" / REFERENCE_FILE).read_text())
    body = client.get("/api/models/fast-tfjs-fp32/reference").json
    assert body["variant"] == "fast-tfjs-fp32" and body["source"] == "test fixture"
    # detector.json's NMS default, the one the reference was computed with
    assert body["score_threshold"] == DetectorSpec.load(exports_dir / "fast-tfjs-fp32").nms \
        .score_threshold
    probes = synthetic_probes()
    assert [p["url"] for p in body["probes"]] == [f"/api/probes/{i}.png"
                                                  for i in range(len(probes))]
    assert [p["sha256"] for p in body["probes"]] == [pixels_sha256(im) for im in probes]
    assert [p["detections"] for p in body["probes"]] == written["detections"]
    first = body["probes"][0]["detections"][0]
    assert first["label"] == "square"  # the stand-in model's one box, in probe pixels
    height, width = probes[0].shape[:2]
    x1, y1, x2, y2 = first["box"]
    assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height


def test_export_without_reference_is_served_without_fingerprint(client: FlaskClient,
                                                                exports_dir: Path) -> None:
    write_fake_export(exports_dir / "fast-tfjs-fp16", reference=False)  # an older sdk's export
    variant = _variants(client)["fast-tfjs-fp16"]
    assert variant["status"] == "ready" and variant["reference"] is False
    assert "fingerprint unavailable" in variant["message"]
    assert client.get("/models/fast-tfjs-fp16/model.json").status_code == 200
    response = client.get("/api/models/fast-tfjs-fp16/reference")
    assert response.status_code == 404 and response.json["error"] == "reference_missing"
    message = response.json["message"]
    assert "fingerprint unavailable" in message and REFERENCE_FILE in message
    assert "sdk export --format tfjs --model fast --quantize fp16 --force" in message


def test_reference_of_other_probe_images_is_not_used(client: FlaskClient,
                                                     exports_dir: Path) -> None:
    assert client.get("/api/models/fast-tfjs-fp16/reference").json["error"] == "model_not_found"
    path = exports_dir / "fast-tfjs-fp32" / REFERENCE_FILE
    data = json.loads(path.read_text())
    data["probes"] = {"description": "old sample JPEGs", "sha256": ["0" * 64] * 4}
    path.write_text(json.dumps(data))
    response = client.get("/api/models/fast-tfjs-fp32/reference")
    assert response.status_code == 404 and response.json["error"] == "reference_missing"
    assert "other probe images (old sample JPEGs)" in response.json["message"]
    assert _variants(client)["fast-tfjs-fp32"]["reference"] is False


def test_export_of_older_weights_says_so(client: FlaskClient, exports_dir: Path,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'make demo' re-exports it; until then it is served, with a note."""
    from sdk.models.io import WEIGHTS_FILE, weights_sha256

    bundled = tmp_path / "weights"
    (bundled / "fast").mkdir(parents=True)
    (bundled / "fast" / "config.json").write_text("{}")
    (bundled / "fast" / WEIGHTS_FILE).write_bytes(b"weights")
    monkeypatch.setattr("sdk.models.io.BUNDLED_DIR", bundled)
    spec_path = exports_dir / "fast-tfjs-fp32" / "detector.json"
    spec = json.loads(spec_path.read_text())
    spec["provenance"] = {"source_weights_sha256": weights_sha256(bundled / "fast")}
    spec_path.write_text(json.dumps(spec))
    assert _variants(client)["fast-tfjs-fp32"]["message"] == ""

    (bundled / "fast" / WEIGHTS_FILE).write_bytes(b"retrained weights")  # 'make weights-fast'
    variant = _variants(client)["fast-tfjs-fp32"]
    assert variant["status"] == "ready"
    assert "older weights" in variant["message"] and "make demo" in variant["message"]


def test_serving_writes_nothing(client: FlaskClient, exports_dir: Path) -> None:
    def tree() -> list[tuple[str, int]]:
        return sorted((str(p), p.stat().st_mtime_ns) for p in exports_dir.rglob("*"))

    before = tree()
    for url in ("/api/models", "/models/fast-tfjs-fp32/model.json",
                "/api/models/fast-tfjs-fp32/reference", "/api/models/fast-tfjs-fp16/reference"):
        client.get(url)
    assert tree() == before


@pytest.mark.parametrize(("name", "parsed"), [
    ("fast-tfjs-fp16", ("fast", "fp16", "tfjs")),
    ("my-model-tfjs-uint8", ("my-model", "uint8", "tfjs")),
    ("fast-tflite-int8", ("fast", "int8", "tflite")),  # LiteRT.js
    ("fast-onnx-fp32", ("fast", "fp32", "onnx")),  # onnxruntime-web
    ("fast-coreml-fp16", None),  # no browser runs it
    ("Fast-tfjs-fp16", None),
    ("../x-tfjs-fp16", None),
])
def test_variant_names(name: str, parsed: tuple[str, str, str] | None) -> None:
    variant = parse_name(name)
    assert (variant and (variant.model, variant.quantization, variant.format)) == parsed


def test_unreadable_export_is_listed_as_broken(client: FlaskClient, exports_dir: Path) -> None:
    (exports_dir / "fast-tfjs-fp32" / "model.json").write_text("{not json")
    variant = _variants(client)["fast-tfjs-fp32"]
    assert variant["status"] == "broken" and "unreadable export" in variant["message"]
    assert client.get("/api/models").json["default"] is None
