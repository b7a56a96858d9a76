"""Repair a TF.js graph the wasm backend cannot run: fused convolutions with a tensor "bias".

The converter's grappler pass fuses ``Conv2D + Add`` into ``_FusedConv2D(BiasAdd)`` even
when the added operand is a feature map, not a bias vector: in an FPN, ``lateral conv +
upsampled coarser level`` becomes one fused op whose "bias" is the upsampled tensor. The
webgl and cpu backends broadcast it; the wasm backend accepts only a rank-1 bias and
fails ("FusedConv2D only supports rank-1 bias"), which is how the parity gate found it on
the Accurate detector. Such nodes are split back into the plain convolution, an ``AddV2``
and the fused activation; true rank-1 biases stay fused (that is the fast path).
"""

from __future__ import annotations

import base64
from typing import Any

_PLAIN_OP = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
_CONV_ATTRS = ("T", "strides", "padding", "data_format", "dilations", "explicit_paddings",
               "use_cudnn_on_gpu")
_ACTIVATIONS = ("Relu", "Relu6", "Elu", "Sigmoid", "Tanh")  # single-input, no extra args


def _fused_ops(node: dict[str, Any]) -> list[str]:
    encoded = node.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])
    return [base64.b64decode(s).decode() for s in encoded]


def _is_vector_weight(name: str, weights: dict[str, dict]) -> bool:
    weight = weights.get(name.split(":")[0])
    return weight is not None and len(weight["shape"]) == 1


def _split(node: dict[str, Any], ops: list[str]) -> list[dict[str, Any]]:
    """Conv -> AddV2 -> activation, the last one keeping the node's name for its consumers."""
    name, attr = node["name"], node["attr"]
    x, kernel, bias = node["input"][:3]
    conv = {"name": f"{name}/unfused_conv", "op": _PLAIN_OP[node["op"]], "input": [x, kernel],
            "attr": {k: v for k, v in attr.items() if k in _CONV_ATTRS}}
    add = {"name": name if len(ops) == 1 else f"{name}/unfused_add", "op": "AddV2",
           "input": [conv["name"], bias], "attr": {"T": attr["T"]}}
    if len(ops) == 1:
        return [conv, add]
    return [conv, add, {"name": name, "op": ops[1], "input": [add["name"]],
                        "attr": {"T": attr["T"]}}]


def unfuse_tensor_biases(model: dict[str, Any]) -> list[str]:
    """Split, in place, the fused convolutions of ``model.json`` whose bias is not a vector.

    Returns the names of the nodes that were split.
    """
    weights = {w["name"]: w for group in model["weightsManifest"] for w in group["weights"]}
    nodes, split = [], []
    for node in model["modelTopology"]["node"]:
        ops = _fused_ops(node) if node["op"] in _PLAIN_OP else []
        repairable = ops[:1] == ["BiasAdd"] and (len(ops) == 1 or ops[1] in _ACTIVATIONS)
        if repairable and not _is_vector_weight(node["input"][2], weights):
            nodes.extend(_split(node, ops))
            split.append(node["name"])
        else:
            nodes.append(node)
    model["modelTopology"]["node"] = nodes
    return split
