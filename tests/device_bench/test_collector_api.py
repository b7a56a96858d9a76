"""``/api/v1``: status codes and bodies of submission, errors, limits and documents."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from benchmarks.example_reports import example_report
from device_bench import api_models
from sdk.bench.protocol import protocol_dict

URL = "/api/v1/reports"


def test_submit_returns_201_with_id_and_validity(post: Any, report: dict, client: Any) -> None:
    resp = post(report)
    assert resp.status_code == 201
    assert resp.json == {"id": report["report_id"], "valid": True, "reasons": []}
    assert resp.headers["Location"] == f"{URL}/{report['report_id']}"
    api_models.SubmitResponse.model_validate(resp.json)
    stored = client.get(resp.headers["Location"]).json
    api_models.ReportRecord.model_validate_json(json.dumps(stored))
    assert stored["report"]["device"] == report["device"] and stored["valid"] is True


def test_resubmission_returns_200_and_the_existing_record(post: Any, report: dict) -> None:
    first = post(report)
    changed = {**report, "notes": "retry with other content"}
    again = post(changed)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json


def test_invalid_report_is_stored_with_reasons(post: Any, client: Any) -> None:
    report = example_report({"page": {"hidden_during_run": True}})
    resp = post(report)
    assert resp.status_code == 201
    assert resp.json["valid"] is False
    assert resp.json["reasons"][0].startswith("page_hidden:")
    assert client.get(f"{URL}/{report['report_id']}").json["valid"] is False


def _error(resp: Any, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.data
    api_models.ErrorBody.model_validate(resp.json)
    assert resp.json["error"] == code
    return resp.json


def _locs(body: dict) -> set[str]:
    return {d["loc"] for d in body["details"]}


def test_malformed_json_is_400(client: FlaskClient) -> None:
    resp = client.post(URL, data=b'{"report_id": ', content_type="application/json")
    body = _error(resp, 400, "invalid_report")
    assert body["details"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda r: r["timing"]["latency_ms"].update(p50=-1.0), "timing.latency_ms.p50"),
        (lambda r: r["timing"].update(runs="120"), "timing.runs"),  # no string coercion
        (lambda r: r["runtime"].update(simd="yes"), "runtime.simd"),  # no bool coercion
        (lambda r: r.update(created_at="2026-05-20T10:00:00"), "created_at"),  # needs a zone
        (lambda r: r.update(surprise=1), "surprise"),  # unknown field
        (lambda r: r["device"].update(name="x" * 10_000), "device.name"),
        (lambda r: r["model"].update(input_size=list(range(5000))), "model.input_size"),
        (lambda r: r["model"].update(sha256="not-a-hash"), "model.sha256"),
        (lambda r: r["model"].update(format="caffe2"), "model.format"),
        (lambda r: r.update(report_id="42"), "report_id"),
        (lambda r: r.pop("timing"), "timing"),
        (lambda r: r["runtime"].update(backend="<b>"), "runtime.backend"),
    ],
)
def test_schema_errors_are_400_with_field_locations(post: Any, mutate: Any, loc: str) -> None:
    report = example_report()
    mutate(report)
    assert loc in _locs(_error(post(report), 400, "invalid_report"))


def test_nan_and_infinity_are_rejected(client: FlaskClient) -> None:
    text = json.dumps(example_report())
    for token in ("NaN", "Infinity"):
        body = text.replace('"load_ms": 850.0', f'"load_ms": {token}')
        resp = client.post(URL, data=body, content_type="application/json")
        assert "timing.load_ms" in _locs(_error(resp, 400, "invalid_report"))


def test_non_object_body_is_400(client: FlaskClient) -> None:
    resp = client.post(URL, data="[1, 2]", content_type="application/json")
    _error(resp, 400, "invalid_report")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str | None) -> None:
    resp = client.post(URL, data=json.dumps(example_report()), content_type=content_type)
    _error(resp, 415, "unsupported_media_type")


def test_json_with_charset_is_accepted(client: FlaskClient) -> None:
    body = json.dumps(example_report())
    resp = client.post(URL, data=body, content_type="application/json; charset=utf-8")
    assert resp.status_code == 201


def test_oversized_body_is_413(post: Any) -> None:
    report = example_report(notes="x" * (70 * 1024))
    _error(post(report), 413, "request_entity_too_large")


@pytest.fixture
def token_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["SUBMIT_TOKEN"] = "s3cret"
    return app_config


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"Authorization": "Bearer s3cret"}, 201)],
)
def test_submission_token(token_app_config: Any, post: Any, headers: dict, status: int) -> None:
    resp = post(example_report(), headers=headers)
    assert resp.status_code == status
    if status == 401:
        assert resp.headers["WWW-Authenticate"] == "Bearer"
        _error(resp, 401, "unauthorized")


@pytest.fixture
def limited_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_BURST=2)
    return app_config


def test_rate_limit_is_429_per_client(limited_app_config: Any, post: Any) -> None:
    statuses = [post(example_report()).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    resp = post(example_report())
    _error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1
    other = post(example_report(), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def test_unknown_report_is_404(client: FlaskClient) -> None:
    _error(client.get(f"{URL}/00000000-0000-4000-8000-000000000000"), 404, "not_found")


def test_wrong_method_is_405(client: FlaskClient) -> None:
    assert client.delete(URL).status_code == 405


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "cursor=-1", "valid=maybe"])
def test_bad_query_is_400(client: FlaskClient, query: str) -> None:
    _error(client.get(f"{URL}?{query}"), 400, "invalid_query")


def test_protocol_endpoint_serves_the_sdk_protocol(client: FlaskClient) -> None:
    assert client.get("/api/v1/protocol").json == protocol_dict()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)
        ]
    return [r for v in node for r in _refs(v)] if isinstance(node, list) else []


def test_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "/api/v1"}]
    post = doc["paths"]["/reports"]["post"]
    assert set(post["responses"]) == {
        "200", "201", "400", "401", "408", "413", "415", "429", "500", "503",
    }  # fmt: skip
    assert "Retry-After" in post["responses"]["503"]["headers"]
    schemas = doc["components"]["schemas"]
    assert schemas["Report"]["additionalProperties"] is False
    assert schemas["Timing"]["properties"]["runs"]["minimum"] == 0
    for ref in _refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    params = {p["name"] for p in doc["paths"]["/reports"]["get"]["parameters"]}
    assert params == {"device", "model", "format", "quantization", "runtime", "backend", "valid",
                      "limit", "cursor"}  # fmt: skip


def test_oversized_chunked_body_is_413(client: FlaskClient) -> None:
    body = json.dumps(example_report(notes="x" * (70 * 1024))).encode()
    resp = client.post(
        URL,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    _error(resp, 413, "request_entity_too_large")


def test_error_details_are_capped(client: FlaskClient) -> None:
    report = example_report()
    report["device"]["x" * 10_000] = 1  # a key longer than any detail may be
    report.update({f"{i:x}": 0 for i in range(5000)})  # and 5,000 unknown keys, ~45 KB
    body = json.dumps(report, separators=(",", ":")).encode()
    assert len(body) < 64 * 1024
    resp = client.post(URL, data=body, content_type="application/json")
    error = _error(resp, 400, "invalid_report")
    assert len(resp.data) < 10_000  # before: 434 KB, every unknown key listed
    assert len(error["details"]) == 20 and error["details_omitted"] == 5001 - 20
    assert all(len(d["loc"]) <= 201 and len(d["msg"]) <= 201 for d in error["details"])
    assert any(d["loc"].startswith("device.xxx") for d in error["details"])


def test_a_short_error_list_has_no_omission_count(client: FlaskClient) -> None:
    resp = client.post(URL, data="{", content_type="application/json")
    assert "details_omitted" not in _error(resp, 400, "invalid_report")


def test_openapi_documents_server_errors_readiness_and_read_limits(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"500", "503"} <= codes or path == "/live", (method, path)
            if method == "get" and path != "/live":
                assert "429" in codes, path  # reads are rate limited
    ready = doc["paths"]["/ready"]["get"]["responses"]
    assert "Retry-After" in ready["503"]["headers"]
    assert ready["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Status")
    params = {p["name"] for p in doc["paths"]["/leaderboard"]["get"]["parameters"]}
    assert {"limit", "offset"} <= params


def test_liveness_and_readiness(client: FlaskClient) -> None:
    live, ready = client.get("/api/v1/live"), client.get("/api/v1/ready")
    assert (live.status_code, ready.status_code) == (200, 200)
    assert api_models.Status.model_validate(live.json).status == "alive"
    assert api_models.Status.model_validate(ready.json).status == "ready"
    api_models.Leaderboard.model_validate(client.get("/api/v1/leaderboard").json)
