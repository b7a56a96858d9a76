"""Fused convolutions with a feature-map "bias" are split so the wasm backend can run them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from exporters.formats.tfjs.graph import unfuse_tensor_biases


def _fused(name: str, bias: str, *ops: str) -> dict:
    encoded = [base64.b64encode(op.encode()).decode() for op in ("BiasAdd", *ops)]
    return {"name": name, "op": "_FusedConv2D", "input": ["x", "kernel", bias],
            "attr": {"T": {"type": "DT_FLOAT"}, "strides": {"list": {"i": ["1"] * 4}},
                     "padding": {"s": "U0FNRQ=="}, "num_args": {"i": "1"},
                     "fused_ops": {"list": {"s": encoded}}}}


def test_only_non_vector_biases_are_split():
    model = {"weightsManifest": [{"weights": [{"name": "b", "shape": [8]},
                                              {"name": "kernel", "shape": [1, 1, 4, 8]}]}],
             "modelTopology": {"node": [_fused("keep", "b"), _fused("fpn_add", "up", "Relu"),
                                        {"name": "after", "op": "Relu", "input": ["fpn_add"]}]}}
    assert unfuse_tensor_biases(model) == ["fpn_add"]
    nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
    assert nodes["keep"]["op"] == "_FusedConv2D"
    conv, add = nodes["fpn_add/unfused_conv"], nodes["fpn_add/unfused_add"]
    assert conv["op"] == "Conv2D" and conv["input"] == ["x", "kernel"]
    assert "fused_ops" not in conv["attr"] and "strides" in conv["attr"]
    assert add["op"] == "AddV2" and add["input"] == ["fpn_add/unfused_conv", "up"]
    assert nodes["fpn_add"]["op"] == "Relu" and nodes["fpn_add"]["input"] == [add["name"]]


@pytest.mark.slow
def test_accurate_fpn_runs_on_wasm(tiny_accurate: Path, tmp_path: Path):
    from exporters.export import export

    result = export(tiny_accurate, "tfjs", out_root=tmp_path)
    assert result.status == "ok", result.parity.reasons
    assert result.checks["unfused_for_wasm"]  # the FPN additions were split


@pytest.mark.slow
def test_uint8_keeps_the_decoder_anchors_16_bit(tiny_fast: Path, tmp_path: Path):
    """uint8 steps of the anchor constants would shift every box (2 mAP points on Accurate)."""
    import json

    from exporters.export import export

    result = export(tiny_fast, "tfjs", "uint8", out_root=tmp_path, allow_degraded=True)
    model = json.loads((result.out_dir / "model.json").read_text())
    dtypes = {w["name"]: w["quantization"]["dtype"] for group in model["weightsManifest"]
              for w in group["weights"] if "quantization" in w}
    decoder = {name for name in dtypes if "/boxes_1/" in name}
    assert len(decoder) >= 6  # the converter folds the anchors into six per-anchor arrays
    assert {dtypes[name] for name in decoder} == {"uint16"}
    assert {d for name, d in dtypes.items() if name not in decoder} == {"uint8"}
