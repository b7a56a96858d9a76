"""A commit that fails is never acknowledged: 503 + Retry-After, then the worker recovers.

Two real faults, no mock of the store: a DB-API connection whose INSERT writes its rows
and then raises ``OSError(EIO)`` (a commit whose flush failed after the rows became
visible), on SQLite and PostgreSQL; and ``fsync``/``fdatasync`` failing with EIO inside
SQLite itself, under gunicorn, through an ``LD_PRELOAD`` shim compiled here with ``cc``.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from benchmarks.example_reports import example_report
from benchmarks.loopback_collector import CollectorClient, GunicornServer
from device_bench.db import get_engine

URL = "/api/v1/reports"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


class _Trigger:
    """Armed: the next INSERT fails after it ran."""

    armed = False


class _FailingCursor:
    def __init__(self, cursor: Any, trigger: _Trigger) -> None:
        self._cursor, self._trigger = cursor, trigger

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        result = self._cursor.execute(sql, *args, **kwargs)
        if self._trigger.armed and sql.lstrip().upper().startswith("INSERT INTO REPORTS"):
            self._trigger.armed = False
            raise OSError(errno.EIO, "injected: the commit's flush failed")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _FailingConnection:
    """A real DB-API connection whose INSERT, once armed, runs and then raises EIO."""

    def __init__(self, conn: Any, trigger: _Trigger) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_trigger", trigger)

    def cursor(self, *args: Any, **kwargs: Any) -> _FailingCursor:
        return _FailingCursor(self._conn.cursor(*args, **kwargs), self._trigger)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)


@pytest.fixture
def trigger(app: Flask) -> _Trigger:
    """Every connection the app opens from now on is a :class:`_FailingConnection`."""
    engine = get_engine(app)
    armed = _Trigger()

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> _FailingConnection:
        return _FailingConnection(dialect.loaded_dbapi.connect(*cargs, **cparams), armed)

    engine.dispose()  # connections opened before (the migration's) are plain
    return armed


def test_a_failed_commit_is_answered_503_never_stored_ok(
    trigger: _Trigger, post: Any, client: Any
) -> None:
    assert post(example_report()).status_code == 201  # the writer's connection is wrapped
    failed = example_report()
    trigger.armed = True
    resp = post(failed)
    assert resp.status_code == 503, resp.json  # before: 200 "already stored" (the retry saw it)
    assert resp.json["error"] == "storage_unavailable"
    assert int(resp.headers["Retry-After"]) >= 1
    # The worker recovered (a new connection; on SQLite a synced checkpoint): submissions
    # are stored again, and the failed one's retry gets an answer that is now durable.
    assert post(example_report()).status_code == 201
    assert post(failed).status_code in (200, 201)
    assert client.get(f"{URL}/{failed['report_id']}").status_code == 200


SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* fsync/fdatasync fail with EIO while the file named by $EIO_TRIGGER_FILE exists. */
static int failing(void) {
    const char *path = getenv("EIO_TRIGGER_FILE");
    return path != NULL && access(path, F_OK) == 0;
}

int fsync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
"""


@pytest.fixture
def eio_shim(tmp_path: Path) -> Path:
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) to build the fsync fault-injection shim")
    source, library = tmp_path / "eio.c", tmp_path / "libeio.so"
    source.write_text(SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(library), str(source), "-ldl"], check=True)
    return library


def test_fsync_eio_in_sqlite_is_never_acknowledged(eio_shim: Path, tmp_path: Path) -> None:
    trigger = tmp_path / "fail-fsync"
    env = {
        "LD_PRELOAD": str(eio_shim),
        "EIO_TRIGGER_FILE": str(trigger),
        "DEVICE_BENCH_RATE_LIMIT_PER_MINUTE": "0",
    }
    log = tmp_path / "gunicorn.log"
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    with GunicornServer(url, workers=1, env=env, log_path=str(log)) as server:
        client = CollectorClient(server.port)
        assert client.post_report(example_report())[0] == 201
        trigger.touch()  # the disk starts failing
        failed = example_report()
        first = client.post_report(failed)
        again = client.post_report(failed)  # before: 200 "already stored" from the page cache
        trigger.unlink()  # the disk works again
        after = client.post_report(failed)
        fresh = client.post_report(example_report())
        stored = client.request("GET", f"{URL}/{failed['report_id']}")[0]
        client.close()
    tail = log.read_text()[-2000:]
    assert first[0] == again[0] == 503, (first, again, tail)
    assert first[1]["error"] == again[1]["error"] == "storage_unavailable"
    assert after[0] in (200, 201) and fresh[0] == 201, (after, fresh, tail)
    assert stored == 200
