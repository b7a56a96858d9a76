"""The commands of the Makefile's ``demo`` target, as the tests run them.

The recipe is read from the Makefile itself, so the tests run what a person runs.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPORT_TIMEOUT_S = 1200  # one real export and its mAP on a loaded 2-core machine


def demo_recipe() -> list[list[str]]:
    """The commands of the Makefile's ``demo`` target, ``$(BIN)`` resolved to this venv."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(shlex.split(line.replace("$(BIN)", str(Path(sys.executable).parent))))
    return recipe


def option(command: list[str], name: str) -> str:
    """The value of ``name`` in ``command``."""
    return command[command.index(name) + 1]


def with_option(command: list[str], name: str, value: str) -> list[str]:
    """``command`` with the value of ``name`` replaced."""
    changed = list(command)
    changed[changed.index(name) + 1] = value
    return changed


def fast_export_command(out: Path, quantization: str = "fp32") -> list[str]:
    """The recipe's ``fast`` export line, one quantization, into ``out``."""
    command = next(c for c in demo_recipe() if "--model" in c and option(c, "--model") == "fast")
    return with_option(with_option(command, "--quantize", quantization), "--out", str(out))


def run(command: list[str]) -> subprocess.CompletedProcess:
    """Run a recipe command from the project folder; its output is captured."""
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=EXPORT_TIMEOUT_S, check=False)
