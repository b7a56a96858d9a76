"""Heavy imports stay out of ``import sdk`` and ``sdk --help``; sdk imports no sibling package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import sdk

HEAVY = ("tensorflow", "keras", "coremltools", "flask", "ai_edge_litert", "tensorflowjs",
         "jax", "sqlalchemy", "pycocotools", "skimage")
SIBLINGS = ("exporters", "importers", "web_demo", "device_bench")


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    return {m.split(".")[0] for m in json.loads(out)}


def test_import_sdk_is_light():
    assert not set(HEAVY) & _imported_after("import sdk, sdk.spec, sdk.preprocess, "
                                            "sdk.postprocess")


def test_sdk_help_is_light():
    code = ("from click.testing import CliRunner\nfrom sdk.cli import main\n"
            "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "assert 'train' in r.output and 'export' in r.output")
    assert not set(HEAVY) & _imported_after(code)


def test_every_subcommand_help_is_light():
    from sdk.cli import COMMANDS

    for name in COMMANDS:
        code = ("from click.testing import CliRunner\nfrom sdk.cli import main\n"
                f"r = CliRunner().invoke(main, ['{name}', '--help'])\n"
                "assert r.exit_code == 0, r.output")
        loaded = set(HEAVY) & _imported_after(code)
        assert not loaded, f"sdk {name} --help imports {loaded}"


def test_sdk_never_imports_sibling_packages():
    root = Path(sdk.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n.split(".")[0] in SIBLINGS]
            assert not bad, f"{path} imports {bad}"
