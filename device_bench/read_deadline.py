"""A bound on the time a request may take to send its body, whatever the server reads with.

A WSGI app reads the body from a blocking socket: a client that sends its headers and
then trickles (or withholds) the body keeps the reading thread until it gives up, and a
socket timeout does not help, since it bounds each ``recv`` and a client sending one byte
just before each timeout never trips it. Instead one watchdog thread per process keeps
the deadlines of the bodies being read and, when one passes, shuts the read side of that
socket down: the blocked read returns end-of-file at once, the reader sees a short body
and answers 408, and the write side stays open for that answer.

The socket comes from the WSGI environ: ``gunicorn.socket`` (gunicorn's sync and gthread
workers) or ``werkzeug.socket`` (the development server). Without one (a test client, a
body already buffered by the server) reading cannot block and there is nothing to bound.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


class _Deadline:
    """One armed deadline; ``expired`` is set (under the watchdog's lock) when it fired."""

    __slots__ = ("at", "seq", "sock", "expired")

    def __init__(self, at: float, seq: int, sock: socket.socket) -> None:
        self.at, self.seq = at, seq
        self.sock: socket.socket | None = sock  # None once disarmed
        self.expired = False

    def __lt__(self, other: _Deadline) -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


class Watchdog:
    """Shuts down the read side of sockets whose deadline passed (one thread, started lazily
    in each process that arms a deadline: threads do not survive a fork)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[_Deadline] = []
        self._seq = itertools.count()
        self._pid: int | None = None

    def arm(self, sock: socket.socket, timeout_s: float) -> _Deadline:
        """Start bounding reads from ``sock`` to ``timeout_s`` from now."""
        with self._cond:
            if self._pid != os.getpid():  # first use in this process
                self._heap = []
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="device-bench-deadlines",
                                 daemon=True).start()  # fmt: skip
            deadline = _Deadline(time.monotonic() + timeout_s, next(self._seq), sock)
            heapq.heappush(self._heap, deadline)
            if self._heap[0] is deadline:
                self._cond.notify()  # the watchdog may be asleep until a later deadline
        return deadline

    def disarm(self, deadline: _Deadline) -> bool:
        """Stop bounding; return True if the deadline had already fired."""
        with self._cond:
            deadline.sock = None
            return deadline.expired

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0].sock is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait_s = self._heap[0].at - time.monotonic()
                if wait_s > 0:
                    self._cond.wait(wait_s)
                    continue
                deadline = heapq.heappop(self._heap)
                deadline.expired = True
                _shut_reads(deadline.sock)  # type: ignore[arg-type]


def _shut_reads(sock: socket.socket) -> None:
    """Make blocked and later reads of ``sock`` return end-of-file; writes still work.

    Through a duplicate of its descriptor (shutdown acts on the connection, not the
    descriptor): ``SSLSocket.shutdown`` would also drop the TLS layer the 408 is sent with.
    """
    try:
        with socket.socket(fileno=os.dup(sock.fileno())) as dup:
            dup.shutdown(socket.SHUT_RD)
    except OSError:  # already closed: the read it bounded has returned
        pass


WATCHDOG = Watchdog()


class BoundedRead:
    """Bound the reads of a body done inside ``with`` to ``timeout_s`` in total.

    After the block, ``expired`` tells whether the deadline fired (then a short body was
    cut by the deadline: the reader answers 408 rather than "incomplete body").
    """

    def __init__(self, environ: Mapping[str, Any], timeout_s: float | None) -> None:
        sock = next((environ[k] for k in SOCKET_KEYS if environ.get(k) is not None), None)
        self._sock = sock if timeout_s and timeout_s > 0 else None
        self._timeout_s = timeout_s or 0.0
        self._deadline: _Deadline | None = None
        self.expired = False

    def __enter__(self) -> BoundedRead:
        if self._sock is not None:
            self._deadline = WATCHDOG.arm(self._sock, self._timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._deadline is not None:
            self.expired = WATCHDOG.disarm(self._deadline)
