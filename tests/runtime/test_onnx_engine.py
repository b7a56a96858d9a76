"""The ONNX Runtime engine on hand-built ONNX graphs (no TensorFlow, no converter): located
and run by ``sdk.load``, its load-time checks, the spec embedded in ``metadata_props``,
uint8 inputs, a symbolic batch, and the thread count it is given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import sdk
from sdk.runtime import RuntimeLoadError
from sdk.runtime.onnx import METADATA_KEY, OnnxBackend
from sdk.spec import DetectorSpec, InputSpec, OutputSpec, SpecError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

LABELS = ("circle", "square", "triangle")
BOXES = [[0.1, 0.1, 0.5, 0.5], [0.6, 0.2, 0.9, 0.4]]  # normalized xyxy of the two anchors
LOGITS = [[2.0, -9.0, -9.0], [-9.0, -9.0, 1.0]]  # anchor 0: circle, anchor 1: triangle


def _model(dtype: int = 1, batch: int | str = 1, outputs: tuple[str, str] = ("boxes", "scores"),
           spec: DetectorSpec | None = None) -> onnx.ModelProto:
    """images [B, 4, 4, 3] -> fixed boxes, scores = sigmoid(logits + mean(images) / 255)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Cast", ["images"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["x"], ["mean"], keepdims=0),
        helper.make_node("Div", ["mean", "c255"], ["shift"]),
        helper.make_node("Add", ["logits", "shift"], ["raised"]),
        helper.make_node("Sigmoid", ["raised"], [outputs[1]]),
        helper.make_node("Identity", ["anchors"], [outputs[0]]),
    ]
    inits = [numpy_helper.from_array(np.array(v, np.float32), name) for name, v in
             (("c255", 255.0), ("logits", [LOGITS]), ("anchors", [BOXES]))]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("images", dtype, [batch, 4, 4, 3])],
        [helper.make_tensor_value_info(outputs[0], TensorProto.FLOAT, [1, 2, 4]),
         helper.make_tensor_value_info(outputs[1], TensorProto.FLOAT, [1, 2, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # onnxruntime >= 1.14 reads it
    if spec is not None:
        model.metadata_props.add(key=METADATA_KEY, value=spec.to_json())
    return model


def _spec(dtype: str = "float32") -> DetectorSpec:
    quant = {"quant_scale": 1.0, "quant_zero_point": 0} if dtype != "float32" else {}
    return DetectorSpec(input=InputSpec(size=(4, 4), resize="stretch", mean=(0.0,) * 3,
                                        std=(1.0,) * 3, dtype=dtype, **quant),
                        labels=LABELS, outputs=OutputSpec(num_anchors=2))


def _export(folder: Path, model: onnx.ModelProto, spec: DetectorSpec | None) -> Path:
    folder.mkdir(parents=True)
    onnx.save(model, str(folder / "model.onnx"))
    if spec is not None:
        spec.save(folder)
    return folder


def test_sdk_load_runs_an_onnx_export(tmp_path: Path):
    folder = _export(tmp_path / "toy-onnx-fp32", _model(), _spec())
    det = sdk.load(folder, num_threads=1)
    assert det.backend.name == "onnx/onnxruntime" and det.source == folder / "model.onnx"
    assert det.backend.session.get_session_options().intra_op_num_threads == 1
    image = np.full((40, 80, 3), 255, np.uint8)  # mean 255 raises every logit by 1
    found = det.detect(image)
    sigmoid = [1 / (1 + np.exp(-3.0)), 1 / (1 + np.exp(-2.0))]  # logits 2 and 1, raised by 1
    assert [d.label for d in found] == ["circle", "triangle"]
    assert [d.score for d in found] == pytest.approx(sigmoid, abs=1e-6)
    assert found[0].box == pytest.approx((8.0, 4.0, 40.0, 20.0))  # stretch: x * 80, y * 40
    assert det.last_timings.inference > 0


def test_uint8_inputs_and_a_symbolic_batch(tmp_path: Path):
    from onnx import TensorProto

    folder = _export(tmp_path / "u8", _model(TensorProto.UINT8, batch="N"), _spec("uint8"))
    det = sdk.load(folder)
    found = det.detect(np.full((8, 8, 3), 255, np.uint8))  # pixels arrive as they are
    assert [d.score for d in found] == pytest.approx([1 / (1 + np.exp(-3.0)),
                                                      1 / (1 + np.exp(-2.0))], abs=1e-6)


def test_the_spec_embedded_in_metadata_props_is_used_without_detector_json(tmp_path: Path):
    folder = _export(tmp_path / "alone", _model(spec=_spec()), None)
    assert sdk.load(folder / "model.onnx").spec == _spec()
    bare = _export(tmp_path / "bare", _model(), None)
    with pytest.raises(SpecError, match="none is embedded in model.onnx"):
        sdk.load(bare)


@pytest.mark.parametrize(("model", "spec", "message"), [
    (_model(), replace(_spec(), labels=("a", "b")), r"'scores' has shape \[1, 2, 3\], "
                                                     r"detector.json expects \[1, 2, 2\]"),
    (_model(outputs=("Identity:0", "scores")), _spec(), r"output\(s\) \['boxes'\] named in "
                                                         r"detector.json not found"),
    (_model(), _spec("uint8"), "input dtype float32 but detector.json input.dtype is uint8"),
    (_model(batch=2), _spec(), r"input shape \[2, 4, 4, 3\] does not match"),
])
def test_load_time_checks_name_the_tensor(tmp_path: Path, model, spec, message: str):
    path = _export(tmp_path / "m", model, None) / "model.onnx"
    with pytest.raises(RuntimeLoadError, match=message):
        OnnxBackend(path, spec)


def test_a_corrupt_file_is_a_load_error(tmp_path: Path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"not a protobuf")
    with pytest.raises(RuntimeLoadError, match="not a valid ONNX model"):
        OnnxBackend(path, _spec())
    with pytest.raises(RuntimeLoadError, match="model file not found"):
        OnnxBackend(tmp_path / "missing.onnx", _spec())


def test_embedded_spec_must_be_valid_json(tmp_path: Path):
    model = _model()
    model.metadata_props.add(key=METADATA_KEY, value="{not json")
    path = _export(tmp_path / "m", model, None) / "model.onnx"
    with pytest.raises(SpecError, match=r"metadata_props\[detector.json\]: not valid JSON"):
        OnnxBackend.embedded_spec(path)
