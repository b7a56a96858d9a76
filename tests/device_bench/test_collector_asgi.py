"""``device_bench.asgi``: the collector behind the buffering ASGI adapter answers what the
WSGI app answers (driven in process through the ASGI interface), bounds what it buffers,
and answers 408 for a body that does not arrive."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from benchmarks.example_reports import example_report
from device_bench import create_app
from device_bench.asgi import BufferedWSGI
from device_bench.db import shutdown

Messages = list[dict[str, Any]]


@pytest.fixture
def asgi(app_config: dict[str, Any]) -> Iterator[BufferedWSGI]:
    adapter = BufferedWSGI(create_app({**app_config, "BODY_TIMEOUT_S": 0.5}))
    yield adapter
    shutdown(adapter.app)


def _scope(method: str, path: str, query: bytes = b"", headers: Any = (), root: str = "") -> dict:
    return {
        "type": "http", "method": method, "path": root + path, "root_path": root,
        "query_string": query, "headers": [(k.encode(), v.encode()) for k, v in headers],
        "http_version": "1.1", "scheme": "http",
        "server": ("127.0.0.1", 8000), "client": ("10.0.0.7", 5555),
    }  # fmt: skip


def _call(app: BufferedWSGI, scope: dict, chunks: list[bytes], stall: bool = False) -> Messages:
    """Run one request: the body arrives in ``chunks`` (then the client stalls if asked)."""
    sent: Messages = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or stall}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # a stalled client: the adapter's timeout must end this
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=30))
    return sent


def _response(sent: Messages) -> tuple[int, dict[str, str], bytes]:
    start, body = sent
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, body["body"]


JSON = [("content-type", "application/json")]


def test_submission_list_and_page_match_the_wsgi_app(asgi: BufferedWSGI) -> None:
    report = example_report()
    body = json.dumps(report).encode()
    scope = _scope("POST", "/api/v1/reports", headers=JSON, root="/c")
    status, headers, answer = _response(_call(asgi, scope, [body[:50], body[50:]]))
    assert status == 201 and json.loads(answer)["id"] == report["report_id"]
    assert headers["location"] == f"/c/api/v1/reports/{report['report_id']}"  # root path kept
    listed = _response(_call(asgi, _scope("GET", "/api/v1/reports", b"device=pixel"), [b""]))
    assert listed[0] == 200 and [i["id"] for i in json.loads(listed[2])["items"]] == [
        report["report_id"]
    ]
    wsgi = asgi.app.test_client().get("/api/v1/reports?device=pixel")
    assert json.loads(listed[2]) == wsgi.json
    page = _response(_call(asgi, _scope("GET", "/bench/"), [b""]))
    assert page[0] == 200 and b"Pixel 7" in page[2]
    assert _response(_call(asgi, _scope("GET", "/nowhere"), [b""]))[0] == 404


def test_a_body_over_the_limit_is_413_without_buffering_it(asgi: BufferedWSGI) -> None:
    chunk = b"x" * 16384
    scope = _scope("POST", "/api/v1/reports", headers=JSON)  # chunked: no Content-Length
    status, _, answer = _response(_call(asgi, scope, [chunk] * 64))  # 1 MiB sent
    assert status == 413 and json.loads(answer)["error"] == "request_entity_too_large"


def test_a_stalled_body_is_408(asgi: BufferedWSGI) -> None:
    scope = _scope("POST", "/api/v1/reports", headers=[*JSON, ("content-length", "2000")])
    status, headers, answer = _response(_call(asgi, scope, [b'{"report_id": '], stall=True))
    assert status == 408 and json.loads(answer)["error"] == "request_timeout"
    assert headers["connection"] == "close"


def test_lifespan_shutdown_commits_and_closes(app_config: dict[str, Any]) -> None:
    adapter = BufferedWSGI(create_app(app_config))
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: Messages = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(adapter({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert "device_bench.writer" not in adapter.app.extensions  # stopped by db.shutdown


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, device_bench, device_bench.schema; "
        "print(sorted({'flask', 'sqlalchemy', 'werkzeug'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_lazy_package_still_exports_the_factories() -> None:
    import device_bench

    assert isinstance(device_bench.create_app({"TESTING": True, "DATABASE_URL": "sqlite://",
                                                "AUTO_MIGRATE": False}), Flask)  # fmt: skip
    assert callable(device_bench.register)
