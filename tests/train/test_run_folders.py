"""Training run folders stay out of git: only the bundled result in sdk/weights/ is committed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0,
    reason="not a git checkout")


@pytest.fixture(scope="module")
def run_folders() -> list[str]:
    """The ``--out`` folders of the ``sdk train`` commands in the Makefile."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    found = re.findall(r"sdk train .*?--out (\S+)", makefile)
    assert found, "no 'sdk train ... --out' in the Makefile"
    return found


def test_make_weights_run_folders_are_ignored_and_untracked(run_folders):
    for folder in run_folders:
        for name in ("checkpoint/optimizer.npz", "checkpoint/model.weights.h5",
                     "checkpoint/state.json", "model.weights.h5", "model_card.json"):
            assert _git("check-ignore", "-q", f"{folder}/{name}").returncode == 0, \
                f"{folder}/{name} is not git-ignored"
        assert _git("ls-files", "--", folder).stdout == "", f"{folder} has committed files"


def test_the_bundled_weights_and_cards_stay_committed():
    from sdk.models.io import BUNDLED, CARD_FILE, CONFIG_FILE, WEIGHTS_FILE

    tracked = set(_git("ls-files", "--", "sdk/weights").stdout.split())
    for arch in BUNDLED:
        for name in (CONFIG_FILE, WEIGHTS_FILE, CARD_FILE):
            assert f"sdk/weights/{arch}/{name}" in tracked
