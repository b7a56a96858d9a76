"""Build missing TF.js exports from the bundled weights, in a background thread.

The exporter (``exporters.export.export`` by default) and TensorFlow are imported only when
a build actually runs, so the demo serves existing exports without them. Several server
processes (gunicorn workers) share one build through a lock file: the first one builds,
the others report ``waiting`` until it is done.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web_demo import reference
from web_demo.variants import FORMAT, Variant, is_complete, source_weights

log = logging.getLogger(__name__)

ExportFn = Callable[..., Any]


class BuildUnavailable(RuntimeError):
    """Nothing can be built here (no exporter installed, or no bundled weights)."""


@dataclass
class BuildState:
    """What the build thread is doing, readable from request threads."""

    phase: str = "idle"  # idle | running | waiting | done | unavailable
    message: str = ""
    done: int = 0
    total: int = 0
    current: str | None = None
    variants: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **changes: Any) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)

    def mark(self, name: str, state: str, message: str = "") -> None:
        with self.lock:
            self.variants[name] = {"state": state, "message": message}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"phase": self.phase, "message": self.message, "done": self.done,
                    "total": self.total, "current": self.current,
                    "variants": {k: dict(v) for k, v in self.variants.items()}}


def resolve_export_fn(spec: str | ExportFn) -> ExportFn:
    """Import ``"module:function"`` (or pass a callable through).

    Raises:
        BuildUnavailable: When the exporter cannot be imported.
    """
    if callable(spec):
        return spec
    module_name, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise BuildUnavailable(f"exporter {spec!r} is not available ({exc}); install the "
                               f"export extra or run 'sdk export --format tfjs'") from exc


def _check_weights(model: str) -> None:
    from sdk.models.io import ModelNotFoundError, resolve_model_dir

    try:
        resolve_model_dir(model)
    except ModelNotFoundError as exc:
        raise BuildUnavailable(f"no trained weights for {model!r} (run 'make weights')") from exc


def current_weights(model: str) -> str | None:
    """sha256 of the weights ``model`` names now (None: no such trained detector)."""
    from sdk.models.io import ModelNotFoundError, resolve_model_dir, weights_sha256

    try:
        return weights_sha256(resolve_model_dir(model))
    except (ModelNotFoundError, OSError):
        return None


def is_stale(recorded: str | None, current: str | None) -> bool:
    """True when something built from weights ``recorded`` predates the ``current``
    weights of its model (e.g. the bundled weights were retrained since the last build)."""
    # None recorded: a custom export, nothing to compare; None current: no weights to rebuild
    return None not in (recorded, current) and recorded != current


@contextmanager
def _exclusive(lock_path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``, calling ``on_wait`` first if it is taken."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Builder:
    """Builds the missing variants of one app, once, in a daemon thread."""

    def __init__(self, exports_dir: str | Path, wanted: list[Variant],
                 export_fn: str | ExportFn) -> None:
        """``export_fn`` is called as ``export_fn(model, "tfjs", quantization, out_root=...,
        allow_degraded=True, force=...)`` (the signature of :func:`exporters.export.export`)."""
        self.exports_dir = Path(exports_dir)
        self.wanted = wanted
        self.export_fn = export_fn
        self.state = BuildState()
        self.thread: threading.Thread | None = None

    def _current_weights(self) -> dict[str, str | None]:
        """Each wanted model's weights sha256, hashed once per call (files of megabytes)."""
        return {m: current_weights(m) for m in dict.fromkeys(v.model for v in self.wanted)}

    def missing(self) -> list[Variant]:
        """Variants to (re)build: absent, incomplete, or exported from older weights."""
        current = self._current_weights()
        return [v for v in self.wanted if not is_complete(folder := v.folder(self.exports_dir))
                or is_stale(source_weights(folder), current[v.model])]

    def start(self) -> threading.Thread | None:
        """Start building in the background when something is missing; return the thread."""
        if not self.missing() and not self._missing_references():
            self.state.update(phase="done")
            return None
        self.state.update(phase="running")  # visible before the thread gets scheduled
        self.thread = threading.Thread(target=self.run, name="web-demo-build", daemon=True)
        self.thread.start()
        return self.thread

    def run(self) -> None:
        """Build every missing variant, then the reference detections (blocking)."""
        def waiting() -> None:
            self.state.update(phase="waiting", message="another server process is building")

        # The lock is held while building; a process that waited finds the folders done
        # and only builds what the other one could not.
        with _exclusive(self.exports_dir / reference.STATE_DIR / "build.lock", waiting):
            self.state.update(phase="running", message="")
            try:
                self._build_all(self.missing())
                self._build_references()
            except BuildUnavailable as exc:
                self.state.update(phase="unavailable", message=str(exc))
                return
            except Exception as exc:  # keep serving; the page shows what went wrong
                log.exception("web demo build failed")
                self.state.update(phase="done", message=f"build failed: {exc}")
                return
        self.state.update(phase="done", current=None)

    def _build_all(self, todo: list[Variant]) -> None:
        if not todo:
            return
        export = resolve_export_fn(self.export_fn)
        for variant in todo:
            self.state.mark(variant.name, "queued")
        self.state.update(phase="running", total=len(todo), done=0)
        for index, variant in enumerate(todo):
            self.state.update(current=variant.name, done=index)
            self._build_one(export, variant)
        self.state.update(done=len(todo), current=None)

    def _build_one(self, export: ExportFn, variant: Variant) -> None:
        self.state.mark(variant.name, "building")
        try:
            _check_weights(variant.model)
            # Degraded (over the parity budget) exports are kept: the demo shows them and
            # the benchmark's accuracy check flags them instead of ranking them.
            result = export(variant.model, FORMAT, variant.quantization,
                            out_root=self.exports_dir, allow_degraded=True,
                            force=variant.folder(self.exports_dir).exists())  # stale: replace
        except BuildUnavailable as exc:
            self.state.mark(variant.name, "unavailable", str(exc))
            return
        except Exception as exc:  # one broken variant must not stop the others
            log.exception("building %s failed", variant.name)
            self.state.mark(variant.name, "failed", f"{type(exc).__name__}: {exc}")
            return
        status = getattr(result, "status", "ok")
        self.state.mark(variant.name, "ready", "" if status == "ok" else f"export {status}")

    def _missing_references(self) -> list[str]:
        models = {v.model for v in self.wanted if is_complete(v.folder(self.exports_dir))}
        current = self._current_weights()
        # unlike an export, a reference that records no weights is ours and predates them
        return sorted(m for m in models if not reference.is_current(self.exports_dir, m)
                      or current[m] not in (None, reference.source_weights(self.exports_dir, m)))

    def _build_references(self) -> None:
        for model in self._missing_references():
            self.state.update(current=f"{model} reference detections")
            try:
                _check_weights(model)
                reference.build(self.exports_dir, model)
            except BuildUnavailable as exc:
                log.info("no reference detections for %s: %s", model, exc)
