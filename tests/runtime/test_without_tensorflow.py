"""The runtime works with only numpy + pillow + LiteRT: TensorFlow imports are blocked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

BLOCKED = ("tensorflow", "keras", "tf_keras", "jax", "tensorflowjs", "tflite_runtime")

PROBE = """
import importlib.abc, json, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked}:
            raise ImportError(f"blocked for this test: {{name}}")
        return None

sys.meta_path.insert(0, Blocker())
import sdk
det = sdk.load({model!r})
found = det.detect({image!r})
print(json.dumps({{"backend": det.backend.name, "n": len(found),
                  "heavy": sorted({{m.split(".")[0] for m in sys.modules}} & set({blocked}))}}))
"""


def test_load_and_detect_without_tensorflow(exports, busy_image):
    code = PROBE.format(blocked=repr(set(BLOCKED)), model=str(exports.tflite),
                        image=str(busy_image))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"backend": "tflite/ai_edge_litert", "n": report["n"], "heavy": []}
    assert report["n"] > 0
