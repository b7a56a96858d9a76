"""Building missing exports in the background, with progress visible in the listing."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from device_bench.db import shutdown
from tests.web_demo.fake_exports import write_fake_export
from web_demo import builder as builder_module
from web_demo import create_app
from web_demo.builder import Builder, BuildUnavailable, resolve_export_fn
from web_demo.variants import Variant, expected


class FakeExporter:
    """Records calls; writes a fake export, or fails for the quantizations in ``broken``."""

    def __init__(self, broken: tuple[str, ...] = (), gate: threading.Event | None = None):
        self.calls: list[tuple[str, str, str]] = []
        self.forced: list[bool] = []  # the force= of each call
        self.broken = broken
        self.gate = gate

    def __call__(self, model: str, fmt: str, quantization: str, *, out_root: Path,
                 allow_degraded: bool, force: bool) -> Any:
        self.calls.append((model, fmt, quantization))
        self.forced.append(force)
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if quantization in self.broken:
            raise RuntimeError(f"converter crashed on {quantization}")
        write_fake_export(Path(out_root) / f"{model}-{fmt}-{quantization}")
        return type("Result", (), {"status": "degraded" if quantization == "uint8" else "ok"})


@pytest.fixture
def weights_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the bundled weights exist (they are trained separately)."""
    monkeypatch.setattr(builder_module, "_check_weights", lambda model: None)


def _builder(root: Path, export: Any, quants: tuple[str, ...] = ("fp32", "fp16")) -> Builder:
    return Builder(root, expected(("fast",), quants), export)


@pytest.mark.usefixtures("weights_everywhere")
def test_builds_only_what_is_missing(tmp_path: Path) -> None:
    write_fake_export(tmp_path / "fast-tfjs-fp32")
    export = FakeExporter()
    build = _builder(tmp_path, export, ("fp32", "fp16", "uint8"))
    build.run()
    assert export.calls == [("fast", "tfjs", "fp16"), ("fast", "tfjs", "uint8")]
    state = build.state.snapshot()
    assert state["phase"] == "done" and state["done"] == state["total"] == 2
    assert state["variants"]["fast-tfjs-fp16"] == {"state": "ready", "message": ""}
    assert state["variants"]["fast-tfjs-uint8"]["message"] == "export degraded"
    assert build.missing() == []


@pytest.mark.usefixtures("weights_everywhere")
def test_one_failure_does_not_stop_the_others(tmp_path: Path) -> None:
    build = _builder(tmp_path, FakeExporter(broken=("fp32",)))
    build.run()
    variants = build.state.snapshot()["variants"]
    assert variants["fast-tfjs-fp32"]["state"] == "failed"
    assert "converter crashed on fp32" in variants["fast-tfjs-fp32"]["message"]
    assert variants["fast-tfjs-fp16"]["state"] == "ready"


def test_without_weights_variants_are_unavailable(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sdk.models.io.BUNDLED_DIR", tmp_path / "no-weights")
    export = FakeExporter()
    build = _builder(tmp_path, export)
    build.run()
    assert export.calls == []
    state = build.state.snapshot()["variants"]["fast-tfjs-fp32"]
    assert state["state"] == "unavailable" and "make weights" in state["message"]


def test_without_exporter_the_build_is_unavailable(tmp_path: Path) -> None:
    build = _builder(tmp_path, "no_such_module.export:export")
    build.run()
    state = build.state.snapshot()
    assert state["phase"] == "unavailable"
    assert "sdk export --format tfjs" in state["message"]
    assert state["variants"] == {}  # nothing left looking "queued" forever
    with pytest.raises(BuildUnavailable):
        resolve_export_fn("web_demo.builder:no_such_function")


@pytest.mark.usefixtures("weights_everywhere")
def test_second_process_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / ".web_demo" / "build.lock"
    lock.parent.mkdir()
    export = FakeExporter()
    build = _builder(tmp_path, export)
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another gunicorn worker is building...
        thread = build.start()
        deadline = time.monotonic() + 10
        while build.state.snapshot()["phase"] != "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for quant in ("fp32", "fp16"):  # ...and finishes
            write_fake_export(tmp_path / f"fast-tfjs-{quant}")
    thread.join(timeout=10)
    assert build.state.snapshot()["phase"] == "done" and export.calls == []


def test_nothing_missing_starts_no_thread(tmp_path: Path) -> None:
    for quant in ("fp32", "fp16"):
        write_fake_export(tmp_path / f"fast-tfjs-{quant}")
    build = Builder(tmp_path, [Variant("fast", "fp32"), Variant("fast", "fp16")], FakeExporter())
    build.start()  # the references cannot be built without weights: no retry loop either
    assert build.thread is None or not build.thread.join(timeout=10)


@pytest.mark.usefixtures("weights_everywhere")
def test_app_builds_in_background_and_listing_shows_progress(app_config: dict,
                                                             tmp_path: Path) -> None:
    gate = threading.Event()
    export = FakeExporter(gate=gate)
    app = create_app({**app_config, "EXPORTS_DIR": str(tmp_path / "fresh"),
                      "AUTO_BUILD": True, "EXPORT_FUNCTION": export, "MODELS": ("fast",)})
    try:
        client = app.test_client()
        assert client.get("/api/models").json["build"]["phase"] == "running"
        deadline = time.monotonic() + 10
        while (body := client.get("/api/models").json)["variants"][0]["status"] != "building":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert body["build"]["current"] == "fast-tfjs-fp32" and body["build"]["total"] == 2
        assert [v["status"] for v in body["variants"]] == ["building", "queued"]
        gate.set()
        app.extensions["web_demo.builder"].thread.join(timeout=10)
        body = client.get("/api/models").json
        assert [v["status"] for v in body["variants"]] == ["ready", "ready"]
        assert body["build"]["phase"] == "done"
    finally:
        gate.set()
        shutdown(app)


def _weights(folder: Path, content: bytes) -> str:
    """Make ``folder`` a trained-detector folder whose weights file has ``content``;
    return the weights' sha256."""
    from sdk.models.io import WEIGHTS_FILE, weights_sha256

    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS_FILE).write_bytes(content)
    (folder / "config.json").write_text("{}")
    return weights_sha256(folder)


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty bundled-weights folder standing in for ``sdk/weights``."""
    folder = tmp_path / "weights"
    monkeypatch.setattr("sdk.models.io.BUNDLED_DIR", folder)
    return folder


def test_exports_of_older_weights_are_rebuilt(tmp_path: Path, bundled: Path) -> None:
    import json

    old = _weights(bundled / "fast", b"old weights")
    exports = tmp_path / "exports"
    for quant in ("fp32", "fp16"):
        folder = write_fake_export(exports / f"fast-tfjs-{quant}")
        spec = json.loads((folder / "detector.json").read_text())
        spec["provenance"] = {"source_weights_sha256": old}
        (folder / "detector.json").write_text(json.dumps(spec))
    build = _builder(exports, FakeExporter())
    assert build.missing() == []  # made from the current weights: served as they are

    _weights(bundled / "fast", b"retrained weights")  # e.g. 'make weights-fast' since
    export = FakeExporter()
    build = _builder(exports, export)
    assert [v.name for v in build.missing()] == ["fast-tfjs-fp32", "fast-tfjs-fp16"]
    build._build_all(build.missing())
    assert export.calls == [("fast", "tfjs", "fp32"), ("fast", "tfjs", "fp16")]
    assert export.forced == [True, True]  # the stale folders are replaced, not kept


def test_reference_of_other_weights_is_rebuilt(tmp_path: Path, bundled: Path) -> None:
    from tests.web_demo.fake_exports import write_fake_reference
    from web_demo import reference

    current = _weights(bundled / "fast", b"weights")
    exports = tmp_path / "exports"
    write_fake_export(exports / "fast-tfjs-fp32")
    build = Builder(exports, [Variant("fast", "fp32")], FakeExporter())
    write_fake_reference(exports, "fast")  # written before references recorded their weights
    assert build._missing_references() == ["fast"]
    data = reference.load(exports, "fast")
    reference.save(exports, "fast", data["probes"], data["score_threshold"], current)
    assert build._missing_references() == []
    _weights(bundled / "fast", b"retrained")
    assert build._missing_references() == ["fast"]
