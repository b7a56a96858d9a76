"""Load a saved ML program once, run it many times: op by op in numpy, rounding every result
to its declared type (so a float16 program rounds after each op, as Core ML does).

Loading resolves every op to a kernel (an unknown op type raises
:class:`~exporters.formats.coreml.mil.errors.UnsupportedOpError` before anything runs) and
folds every op whose inputs are all constants: ``const``, the ``constexpr_*`` weight
decompression, and casts of constant weights run once, when the program is loaded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from exporters.formats.coreml.mil.errors import MilError, Unsupported, UnsupportedOpError
from exporters.formats.coreml.mil.fp16 import round_fp16
from exporters.formats.coreml.mil.ops import KERNELS
from exporters.formats.coreml.mil.ops.registry import SELECTING, Kernel
from exporters.formats.coreml.mil.reader import BlobFiles, TensorType, decode_value, tensor_type

TUPLE_INPUTS = frozenset({"values"})  # concat / stack / einsum take a tuple of tensors


class _Ref(NamedTuple):
    """An op input bound to a value computed at run time (by name)."""

    name: str


@dataclass(frozen=True)
class _Step:
    op_type: str
    kernel: Kernel
    args: tuple[tuple[str, Any], ...]  # (input name, _Ref | constant | list of those)
    outputs: tuple[tuple[str, TensorType], ...]
    release: tuple[str, ...] = ()  # run-time values no later step reads

    @property
    def name(self) -> str:
        return self.outputs[0][0] if self.outputs else "?"


def conform(value: Any, ttype: TensorType, where: str, rounded: bool = False,
            owned: bool = False) -> Any:
    """``value`` rounded to its declared type (fp16 kept widened in float32), shape checked.

    ``rounded``: the value is known to be float16-exact already (a selecting op on float16
    inputs); ``owned``: a fresh array nothing else refers to, rounded in place. The shape
    check turns an interpreter slip (e.g. a wrong pad rule) into an error naming the op
    instead of a silently different tensor further down.
    """
    if ttype.type_name == "STRING":
        return value
    array = np.asarray(value)
    if ttype.type_name == "FLOAT16":
        if array.dtype != np.float32:
            array = array.astype(np.float32)
            owned = True
        if not rounded:
            array = round_fp16(array, inplace=owned)
    elif array.dtype != ttype.dtype:
        array = array.astype(ttype.dtype)
    if ttype.known_shape and array.shape != ttype.shape:
        raise MilError(f"{where}: the interpreter computed shape {list(array.shape)}, the "
                       f"program declares {ttype}")
    return array


def _widen(value: Any) -> Any:
    """Constants as kernels see them: float16 values carried in float32."""
    if isinstance(value, np.ndarray) and value.dtype == np.float16:
        return value.astype(np.float32)
    return value


class Program:
    """One function of a saved ML program, ready to run.

    Attributes:
        source: Where it was loaded from (package path, or a description).
        function: The function run (``main``).
        opset: The specialisation run (e.g. ``CoreML6`` = iOS 16, ``CoreML8`` = iOS 18).
        inputs: Input name -> declared :class:`TensorType`, in program order.
        outputs: Output name -> declared :class:`TensorType`, in program order.
        op_types: How many ops of each type the program holds (constants included).
    """

    def __init__(self, source: str, function: str, opset: str, inputs: dict[str, TensorType],
                 outputs: dict[str, TensorType], steps: list[_Step],
                 constants: dict[str, Any], op_types: Counter):
        self.source, self.function, self.opset = source, function, opset
        self.inputs, self.outputs, self.op_types = inputs, outputs, op_types
        self._steps, self._constants = steps, constants

    def __repr__(self) -> str:
        return (f"Program({self.source!r}, {self.function}/{self.opset}: "
                f"{sum(self.op_types.values())} ops, {self.ops_per_run} run per call)")

    @property
    def ops_per_run(self) -> int:
        """Ops executed by each :meth:`run` (the others were folded when loading)."""
        return len(self._steps)

    def constant(self, name: str) -> np.ndarray:
        """A value computed when loading (a constant, or decompressed weights), as float32
        for float16 values; KeyError if ``name`` is computed at run time."""
        return self._constants[name]

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Feed ``inputs`` (name -> array of the declared shape); return every output.

        Outputs have their declared dtype (float32 for the detector's ``boxes`` / ``scores``).
        """
        env = self._feed(inputs)
        # inf/NaN propagate as on a device (nothing traps); one BLAS thread: the same sums in
        # the same order on every machine, and no spinning threads on a busy one (measured:
        # 3x less CPU per image on a loaded 2-core machine)
        with np.errstate(all="ignore"), _one_blas_thread():
            for step in self._steps:
                self._apply(step, env)
                for name in step.release:
                    del env[name]
        result = {}
        for name, ttype in self.outputs.items():
            value = env[name] if name in env else self._constants[name]
            result[name] = np.asarray(value).astype(ttype.dtype)
        return result

    def _feed(self, inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
        missing = [n for n in self.inputs if n not in inputs]
        extra = [n for n in inputs if n not in self.inputs]
        if missing or extra:
            raise MilError(f"{self.source}: inputs {sorted(inputs)} given, the program takes "
                           f"{list(self.inputs)}")
        env = {}
        for name, ttype in self.inputs.items():
            value = np.asarray(inputs[name])
            if ttype.known_shape and value.shape != ttype.shape:
                raise MilError(f"{self.source}: input {name!r} has shape {list(value.shape)}, "
                               f"the program takes {ttype}")
            env[name] = conform(value, ttype, f"input {name!r}")
        return env

    @staticmethod
    def _apply(step: _Step, env: dict[str, Any]) -> None:
        kwargs = {}
        for param, binding in step.args:
            if isinstance(binding, _Ref):
                kwargs[param] = env[binding.name]
            elif isinstance(binding, list):
                kwargs[param] = [env[b.name] if isinstance(b, _Ref) else b for b in binding]
            else:
                kwargs[param] = binding
        for (name, _), value in zip(step.outputs, _call(step, kwargs), strict=True):
            env[name] = value


_CONTROLLER: list[Any] = []


def _one_blas_thread() -> Any:
    """A context limiting numpy's BLAS to one thread (threadpoolctl, when installed)."""
    import contextlib

    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # comes with scikit-learn (export extra); without it: BLAS default
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    controller = _CONTROLLER[0]
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def _call(step: _Step, kwargs: dict[str, Any]) -> list[Any]:
    """Run one op's kernel; its results conformed to the declared output types."""
    where = f"op {step.op_type} computing {step.name!r}"
    try:
        result = step.kernel(**kwargs)
    except Unsupported as exc:
        raise UnsupportedOpError(step.op_type, step.name, str(exc)) from exc
    except MilError:
        raise
    except Exception as exc:  # any kernel failure names the op it happened in
        raise MilError(f"{where}: {type(exc).__name__}: {exc}") from exc
    results = list(result) if isinstance(result, tuple) else [result]
    if len(results) != len(step.outputs):
        raise MilError(f"{where}: {len(results)} results for {len(step.outputs)} outputs")
    selects = step.op_type in SELECTING
    return [conform(v, t, where, rounded=selects, owned=_fresh(v, kwargs))
            for v, (_, t) in zip(results, step.outputs, strict=True)]


def _fresh(value: Any, kwargs: dict[str, Any]) -> bool:
    """Whether a kernel result is a new array (not an input, a view or a constant)."""
    return (isinstance(value, np.ndarray) and value.flags.owndata and value.base is None
            and not any(value is v for v in kwargs.values()))


def load_program(source: str | Path | Any, function: str = "main") -> Program:
    """Read a saved ``.mlpackage`` (or an in-memory ``coremltools.models.MLModel``).

    The model is read with coremltools' own readers: ``MLModel(..., skip_model_load=True)``
    for the protobuf and ``BlobReader`` for ``weights/*.bin``; no Core ML framework needed.

    Raises:
        MilError: not an ML program (e.g. a pipeline), malformed, or unsupported values.
        UnsupportedOpError: an op type without a kernel.
    """
    import coremltools as ct

    if isinstance(source, str | Path):
        if not Path(source).exists():
            raise MilError(f"{source}: no such Core ML package")
        model = ct.models.MLModel(str(source), skip_model_load=True)
        label = str(source)
    else:
        model, label = source, f"MLModel at {getattr(source, 'package_path', '?')}"
    spec = model.get_spec()
    kind = spec.WhichOneof("Type")
    if kind != "mlProgram":
        raise MilError(f"{label}: a {kind} model, not an ML program (open the ML program "
                       f"itself, e.g. model.mlpackage, not a pipeline)")
    functions = spec.mlProgram.functions
    if function not in functions:
        raise MilError(f"{label}: no function {function!r} (has {sorted(functions)})")
    fn = functions[function]
    block = fn.block_specializations[fn.opset]
    weights = Path(model.weights_dir) if model.weights_dir else None
    inputs = {i.name: tensor_type(i.type, f"{label}: input {i.name!r}") for i in fn.inputs}
    return _build(label, function, fn.opset, inputs, block, BlobFiles(weights))


def _build(label: str, function: str, opset: str, inputs: dict[str, TensorType], block: Any,
           blobs: BlobFiles) -> Program:
    if block.attributes and any(k != "name" for k in block.attributes):
        raise MilError(f"{label}: block attributes are not supported")
    constants: dict[str, Any] = {}
    types: dict[str, TensorType] = dict(inputs)
    steps: list[_Step] = []
    op_types: Counter = Counter()
    for op in block.operations:
        op_types[op.type] += 1
        step = _parse_op(op, blobs, constants, types, label)
        for name, ttype in step.outputs:
            types[name] = ttype
        if all(not _has_ref(b) for _, b in step.args):  # constant: fold it now
            kwargs = {p: b for p, b in step.args}
            for (name, _), value in zip(step.outputs, _call(step, kwargs), strict=True):
                constants[name] = _widen(value)
        else:
            steps.append(step)
    outputs = {}
    for name in block.outputs:
        if name not in types:
            raise MilError(f"{label}: output {name!r} is not computed by the program")
        outputs[name] = types[name]
    return Program(label, function, opset, inputs, outputs, _with_releases(steps, outputs),
                   constants, op_types)


def _parse_op(op: Any, blobs: BlobFiles, constants: dict[str, Any], known: dict[str, Any],
              label: str) -> _Step:
    name = op.outputs[0].name if op.outputs else "?"
    where = f"{label}: op {op.type} computing {name!r}"
    if op.type not in KERNELS:
        raise UnsupportedOpError(op.type, name)
    if len(op.blocks):
        raise UnsupportedOpError(op.type, name, "ops with nested blocks (control flow)")
    args: dict[str, Any] = {}
    for param, argument in op.inputs.items():
        bound = []
        for binding in argument.arguments:
            if binding.WhichOneof("binding") == "name":
                ref = binding.name
                if ref not in known:
                    raise MilError(f"{where}: input {param!r} reads {ref!r}, which no earlier "
                                   f"op or input defines")
                bound.append(_widen(constants[ref]) if ref in constants else _Ref(ref))
            else:
                bound.append(_widen(decode_value(binding.value, blobs, f"{where}, {param}")))
        args[param] = bound if param in TUPLE_INPUTS else _single(bound, param, where)
    for param, value in op.attributes.items():
        if param != "name":
            args[param] = _widen(decode_value(value, blobs, f"{where}, {param}"))
    outputs = tuple((o.name, tensor_type(o.type, f"{where}, output {o.name!r}"))
                    for o in op.outputs)
    return _Step(op.type, KERNELS[op.type], tuple(sorted(args.items())), outputs)


def _single(bound: list[Any], param: str, where: str) -> Any:
    if len(bound) != 1:
        raise MilError(f"{where}: input {param!r} has {len(bound)} values, the op takes one")
    return bound[0]


def _has_ref(binding: Any) -> bool:
    return isinstance(binding, _Ref) or (isinstance(binding, list)
                                         and any(isinstance(b, _Ref) for b in binding))


def _with_releases(steps: list[_Step], outputs: dict[str, TensorType]) -> list[_Step]:
    """Each step with the run-time values it reads for the last time (freed after it)."""
    last: dict[str, int] = {}
    for i, step in enumerate(steps):
        for _, binding in step.args:
            for b in binding if isinstance(binding, list) else [binding]:
                if isinstance(b, _Ref):
                    last[b.name] = i
    releases: dict[int, list[str]] = {}
    for name, i in last.items():
        if name not in outputs:
            releases.setdefault(i, []).append(name)
    return [_Step(s.op_type, s.kernel, s.args, s.outputs, tuple(releases.get(i, ())))
            for i, s in enumerate(steps)]


def run_mlpackage(path: str | Path, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Load ``path`` and run it once (load with :func:`load_program` to run many times)."""
    return load_program(path).run(inputs)
