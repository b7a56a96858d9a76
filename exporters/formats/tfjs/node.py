"""Run TF.js graph models in Node.js with ``@tensorflow/tfjs`` + the wasm backend.

The JavaScript side is ``run_tfjs.cjs`` beside this module; it needs ``node`` on PATH and the npm
packages of the project's ``package.json`` (``npm install``). ``SDK_NODE_MODULES`` may point
at another ``node_modules`` folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from exporters.errors import ExportError, RunnerUnavailableError
from sdk.spec import DetectorSpec

SCRIPT = Path(__file__).resolve().parent / "run_tfjs.cjs"
TIMEOUT_S = 900  # a full eval split through wasm on a slow machine


def _node_modules() -> Path | None:
    env = os.environ.get("SDK_NODE_MODULES")
    starts = [Path(env)] if env else []
    starts += [Path.cwd(), SCRIPT.parent]
    for start in starts:
        for folder in (start, *start.parents):
            candidate = folder if folder.name == "node_modules" else folder / "node_modules"
            if (candidate / "@tensorflow" / "tfjs-backend-wasm").is_dir():
                return candidate
    return None


class NodeRunner:
    """A TF.js graph model folder run by Node (wasm backend), one process per call."""

    def __init__(self, model_dir: Path, spec: DetectorSpec):
        node, modules = shutil.which("node"), _node_modules()
        if node is None or modules is None:
            missing = "node is not on PATH" if node is None else "npm packages are missing"
            raise RunnerUnavailableError(
                f"cannot run TF.js in Node: {missing} (install Node.js 18+ and run "
                f"'npm install' in the project folder, or set SDK_NODE_MODULES)")
        self.cmd = [node, str(SCRIPT), str(model_dir)]
        self.env = {**os.environ, "NODE_PATH": str(modules)}
        self.spec = spec
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
        self.node_version = version.strip()
        self.description = f"tfjs wasm in Node {self.node_version}"

    def _call(self, inputs: np.ndarray, *extra: str) -> tuple[Path, dict]:
        tmp = Path(tempfile.mkdtemp(prefix="sdk-tfjs-"))
        np.save(tmp / "input.npy", np.ascontiguousarray(inputs, np.float32))
        proc = subprocess.run([*self.cmd, str(tmp / "input.npy"), str(tmp / "out"), *extra],
                              capture_output=True, text=True, env=self.env, timeout=TIMEOUT_S)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            head = " | ".join(proc.stderr.strip().splitlines()[:3])  # the error, not the stack
            raise ExportError(f"TF.js run in Node failed: {head}")
        return tmp, json.loads((tmp / "out" / "result.json").read_text())

    def run(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tmp, result = self._call(inputs)
        self.description = (f"tfjs {result['tfjs']} {result['backend']} "
                            f"({result['threads']} thread(s)) in Node {self.node_version}")
        try:
            wanted = (self.spec.outputs.boxes, self.spec.outputs.scores)
            missing = [n for n in wanted if n not in result["outputs"]]
            if missing:  # read by name, never by position (converters reorder outputs)
                raise ExportError(f"outputs {missing} named in detector.json are not in the "
                                  f"model.json signature {result['outputs']}")
            boxes, scores = (np.load(tmp / "out" / f"{n}.npy") for n in wanted)
            return boxes, scores
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def latency(self, inputs: np.ndarray, runs: int, warmup: int) -> list[float]:
        tmp, result = self._call(inputs[:1], "--repeat", str(runs), "--warmup", str(warmup))
        shutil.rmtree(tmp, ignore_errors=True)
        return [float(t) for t in result["latency_ms"]]
