"""Loading and running programs: unknown ops fail loudly naming the op, bad inputs and
malformed programs name what is wrong, a program loads once and runs many times."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exporters.formats.coreml.mil import (
    SUPPORTED_OPS,
    MilError,
    UnsupportedOpError,
    load_program,
    run_mlpackage,
)
from tests.exporters.coreml_mil.programs import convert, random


def _relu_package(tmp_path: Path) -> Path:
    from coremltools.converters.mil import Builder as mb

    return convert(lambda x: {"y": mb.relu(x=mb.mul(x=x, y=2.0, name="doubled"), name="r")},
                   {"x": (2, 3)}, tmp_path / "relu.mlpackage")


def _edited(package: Path, out: Path, edit) -> Path:
    """``package`` with its protobuf changed by ``edit(ops)``, saved as ``out``."""
    import coremltools as ct

    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    main = spec.mlProgram.functions["main"]
    edit(main.block_specializations[main.opset].operations)
    ct.models.MLModel(spec, weights_dir=model.weights_dir, skip_model_load=True).save(str(out))
    return out


def test_unknown_op_type_fails_at_load_naming_it(tmp_path: Path):
    def rename(ops):
        next(op for op in ops if op.type == "relu").type = "frobnicate"

    package = _edited(_relu_package(tmp_path), tmp_path / "bad.mlpackage", rename)
    with pytest.raises(UnsupportedOpError, match=r"'frobnicate' \(computing 'r'\)") as info:
        load_program(package)
    assert (info.value.op_type, info.value.output) == ("frobnicate", "r")


def test_a_mil_op_without_a_kernel_fails_at_load(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    assert "space_to_batch" not in SUPPORTED_OPS
    package = convert(lambda x: mb.space_to_batch(x=x, block_shape=np.array([2, 2], np.int32),
                                                  paddings=np.zeros((2, 2), np.int32),
                                                  name="s2b"),
                      {"x": (1, 2, 4, 4)}, tmp_path / "s2b.mlpackage")
    with pytest.raises(UnsupportedOpError, match="space_to_batch.*'s2b'"):
        load_program(package)


def test_an_unsupported_configuration_fails_when_run(tmp_path: Path):
    from coremltools.converters.mil import Builder as mb

    package = convert(lambda x: mb.gather_nd(x=x, indices=np.zeros((2, 1, 1), np.int32),
                                             batch_dims=1, name="g"),
                      {"x": (2, 3, 4)}, tmp_path / "g.mlpackage")
    program = load_program(package)
    with pytest.raises(UnsupportedOpError, match="gather_nd.*'g'.*batch_dims"):
        program.run({"x": random((2, 3, 4))})


def test_load_once_run_many(tmp_path: Path):
    package = _relu_package(tmp_path)
    program = load_program(package)
    assert list(program.inputs) == ["x"] and list(program.outputs) == ["y"]
    assert program.outputs["y"].shape == (2, 3) and program.opset == "CoreML6"
    assert program.op_types["relu"] == 1 and program.op_types["mul"] == 1
    assert "ops" in repr(program)
    for seed in range(3):
        x = random((2, 3), seed=seed)
        before = x.copy()
        out = program.run({"x": x})
        np.testing.assert_array_equal(out["y"], np.maximum(2 * x, 0))
        np.testing.assert_array_equal(x, before)  # inputs are not modified
        assert out["y"].dtype == np.float32
    np.testing.assert_array_equal(run_mlpackage(package, {"x": x})["y"], out["y"])


def test_bad_inputs_are_named(tmp_path: Path):
    program = load_program(_relu_package(tmp_path))
    with pytest.raises(MilError, match=r"inputs \['images'\] given, the program takes \['x'\]"):
        program.run({"images": random((2, 3))})
    with pytest.raises(MilError, match=r"input 'x' has shape \[3, 2\], the program takes "
                                       r"float32\[2, 3\]"):
        program.run({"x": random((3, 2))})


def test_a_wrong_declared_shape_is_caught_at_the_op(tmp_path: Path):
    def widen(ops):
        op = next(op for op in ops if op.type == "mul")
        op.outputs[0].type.tensorType.dimensions[1].constant.size = 4

    program = load_program(_edited(_relu_package(tmp_path), tmp_path / "s.mlpackage", widen))
    with pytest.raises(MilError, match=r"op mul computing 'doubled'.*\[2, 3\].*float32\[2, 4\]"):
        program.run({"x": random((2, 3))})


def test_not_an_ml_program(tmp_path: Path):
    import coremltools as ct
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder

    builder = NeuralNetworkBuilder([("x", datatypes.Array(3))], [("y", datatypes.Array(3))])
    builder.add_activation("relu", "RELU", "x", "y")
    model = ct.models.MLModel(builder.spec, skip_model_load=True)
    with pytest.raises(MilError, match="neuralNetwork model, not an ML program"):
        load_program(model)
    with pytest.raises(MilError, match="no such Core ML package"):
        load_program(tmp_path / "missing.mlpackage")


def test_importing_the_interpreter_is_light():
    code = ("import sys, exporters.formats.coreml.mil; "
            "print(sorted(m for m in ('coremltools', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parents[3])
    assert result.stdout.strip() == "[]"
