"""The real clients of the ``mediapipe`` export, each run in its own venv (see the Makefile):
the ``*_detect.py`` scripts import nothing from the repository; :func:`run_client` runs one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CLIENTS = Path(__file__).parent
CLIENT_PYTHON = {"mediapipe": REPO / ".venvs" / "mediapipe" / "bin" / "python",
                 "task_library": REPO / ".venvs" / "tflite-support" / "bin" / "python"}


def run_client(client: str, model: Path, images: Path, score_threshold: float) -> dict:
    """Run a client script on ``images`` (a ``.npy`` of ``[K, H, W, 3]`` uint8) in its venv;
    its JSON output (one list of ``{"label", "score", "box"}`` per image, pixel boxes)."""
    python = CLIENT_PYTHON[client]
    if not python.is_file():  # fail, not skip: a run without the real clients proves nothing
        pytest.fail(f"{python} missing: `make setup` creates the client venvs")
    done = subprocess.run(
        [str(python), str(CLIENTS / f"{client}_detect.py"), str(model), str(images),
         "--score-threshold", str(score_threshold)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
