"""Keep TensorFlow's, XLA's, absl's and LiteRT's log chatter out of the ``sdk`` commands' output.

TensorFlow's C++ side logs through absl before ``absl::InitializeLog()`` is ever called,
so ``TF_CPP_MIN_LOG_LEVEL`` does not silence it: importing TensorFlow on a CPU machine
prints CUDA factory and "computation placer" lines, Grappler prints "Starting new
session", the TFLite converter its options and LiteRT its XNNPACK delegate, all straight to
file descriptor 2. :func:`install` therefore

* sets the environment variables the libraries read at import (before any is imported);
* lowers the Python loggers of TensorFlow and absl to errors;
* moves file descriptor 2 onto a pipe whose reader thread drops the lines in the known
  log formats of these libraries (fatal ones excepted) and passes everything else to the
  real stderr, while Python's own ``sys.stderr`` (click, rich's progress bars, tracebacks)
  keeps writing to the terminal directly.

``SDK_LOG_VERBOSE=1`` turns all of this off (to see the libraries' logs while debugging).
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import re
import sys
import threading
from typing import BinaryIO

VERBOSE_ENV = "SDK_LOG_VERBOSE"

# Read once, at import, by TensorFlow / gRPC / absl.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # tsl logging: errors surface as Python exceptions anyway
    "TF_CPP_MIN_VLOG_LEVEL": "0",
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "3",
}

# Lines in the C++ log formats of absl (``W0000 00:00:1796461912.70 5622 file.cc:177] ...``) and
# tsl (``2026-12-05 09:11:52.551749: E external/.../cuda_fft.cc:467] ...``), except fatal
# (F) ones, plus the known plain-text lines of these libraries.
NOISE = re.compile(
    r"""^(?:
        [IWE]\d{4}\ [\d:.]+\s+\d+\ [^\]\s]+:\d+\]
      | \d{4}-\d\d-\d\d\ [\d:.]+:\ [IWE]\ [^\]\s]+:\d+\]
      | WARNING:\ All\ log\ messages\ before\ absl::InitializeLog
      | INFO:\ Created\ TensorFlow\ Lite\ \S+\ delegate
      | INFO:\ Initialized\ TensorFlow\ Lite\ runtime
      | To\ enable\ the\ following\ instructions:.*rebuild\ TensorFlow
      | fully_quantize:\ \d+,\ inference_type:
      | WARNING:(?:absl|tensorflow):
    )""",
    re.VERBOSE,
)

_installed: list[object] = []


def is_noise(line: str) -> bool:
    """True for a line that one of the libraries' loggers printed (never a fatal one)."""
    return bool(NOISE.match(line))


def _pump(source: BinaryIO, sink: int) -> None:
    """Copy lines from ``source`` to file descriptor ``sink``, dropping the noise."""
    for raw in source:
        if not is_noise(raw.decode("utf-8", "replace")):
            os.write(sink, raw)


def _quiet_python_loggers() -> None:
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("h5py").setLevel(logging.ERROR)
    if "absl.logging" in sys.modules:
        sys.modules["absl.logging"].set_verbosity("error")  # type: ignore[attr-defined]


class _AbslHook:
    """Lower absl's Python logging to errors as soon as anything imports it."""

    def find_spec(self, name: str, path: object, target: object = None) -> object:
        if name != "absl.logging":
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module  # type: ignore[attr-defined]

        def exec_and_quiet(module: object) -> None:
            exec_module(module)
            module.set_verbosity("error")  # type: ignore[attr-defined]

        loader.exec_module = exec_and_quiet  # type: ignore[attr-defined]
        return spec


def install() -> None:
    """Quiet the libraries for the rest of this process (idempotent; see the module doc).

    Only for a real terminal process: under a test runner that replaced ``sys.stderr``
    (click's CliRunner, pytest's capture) only the environment and loggers are set.
    """
    if os.environ.get(VERBOSE_ENV) or _installed:
        return
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    _quiet_python_loggers()
    hook = _AbslHook()
    sys.meta_path.insert(0, hook)
    _installed.append(hook)
    if sys.stderr is not sys.__stderr__ or sys.stderr is None:
        return
    try:
        real = os.dup(2)
    except OSError:
        return
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    # Python's stderr writes to the real one: progress bars keep their terminal.
    sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(real), "wb", buffering=0),
                                  encoding=sys.__stderr__.encoding, errors="backslashreplace",
                                  line_buffering=True, write_through=True)
    pump = threading.Thread(target=_pump, args=(os.fdopen(read_end, "rb"), real),
                            name="sdk-quiet-stderr", daemon=True)
    pump.start()

    def restore() -> None:
        """Give fd 2 back and let the reader drain what the libraries wrote last."""
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(real, 2)  # closes the pipe's last write end held by this process
        pump.join(timeout=2)

    atexit.register(restore)
