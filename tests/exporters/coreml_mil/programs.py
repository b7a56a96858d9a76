"""Build small ML programs with coremltools' MIL builder, save them, run them interpreted.

Programs are converted with an empty pass pipeline, so the saved program holds exactly the
ops written here (no fusion, no constant folding); ``compile_program`` checks it.
``fp16=True`` casts the float inputs to float16 first and the results back to float32, so
every op in between computes in float16 as it would on a device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

IOS16, IOS17, IOS18 = "iOS16", "iOS17", "iOS18"


def convert(build: Callable[..., Any], inputs: Mapping[str, tuple[int, ...]], out: Path,
            fp16: bool = False, target: str = IOS16,
            input_dtypes: Mapping[str, str] | None = None) -> Path:
    """Save the program ``build(**input_vars) -> var | tuple | dict`` as ``out`` (.mlpackage).

    ``build`` may return a dict ``output name -> var`` to name the outputs.
    """
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.mil import Function, Program, types

    dtypes = {"fp32": types.fp32, "int32": types.int32, "bool": types.bool}
    specs = {n: mb.TensorSpec(shape=s, dtype=dtypes[(input_dtypes or {}).get(n, "fp32")])
             for n, s in inputs.items()}
    opset = getattr(ct.target, target)
    with Function(specs, opset_version=opset) as fn:
        args = {n: (mb.cast(x=v, dtype="fp16", name=f"{n}_fp16")
                    if fp16 and v.dtype == types.fp32 else v) for n, v in fn.inputs.items()}
        result = build(**args)
        named = result if isinstance(result, dict) else None
        outs = list(named.values()) if named else list(result) if isinstance(
            result, tuple | list) else [result]
        final = []
        for i, var in enumerate(outs):
            name = list(named)[i] if named else f"out{i}"
            if var.dtype == types.fp16:
                var = mb.cast(x=var, dtype="fp32", name=name)
            else:
                var = mb.identity(x=var, name=name)
            final.append(var)
        fn.set_outputs(final)
    prog = Program()
    prog.add_function("main", fn)
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=opset,
                       pass_pipeline=ct.PassPipeline.EMPTY,
                       compute_precision=ct.precision.FLOAT32)
    model.save(str(out))
    return out


def compile_program(build: Callable[..., Any], inputs: Mapping[str, tuple[int, ...]],
                    out: Path, expect_ops: tuple[str, ...] = (), **kwargs: Any):
    """``convert`` then load with the interpreter; asserts ``expect_ops`` are in the program."""
    from exporters.formats.coreml.mil import load_program

    program = load_program(convert(build, inputs, out, **kwargs))
    missing = [op for op in expect_ops if not program.op_types[op]]
    assert not missing, f"ops {missing} not in the saved program: {dict(program.op_types)}"
    return program


def fp16(x: np.ndarray) -> np.ndarray:
    """Values rounded to float16, as float64 (for references)."""
    return np.asarray(x, np.float32).astype(np.float16).astype(np.float64)


def random(shape: tuple[int, ...], seed: int = 0, low: float = -2.0, high: float = 2.0,
           ) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
