"""Where training runs: one CPU, the GPUs of one machine, or several machines.

``sdk train --distribute``:

* ``auto`` (default): every GPU of this machine with ``tf.distribute.MirroredStrategy``
  when TensorFlow sees one, else the CPU as today (no strategy);
* ``none``: no strategy (one device: the first GPU, else the CPU);
* ``mirrored``: ``MirroredStrategy`` over the local GPUs, or over the logical CPU devices
  when there is no GPU (how the tests run two replicas on one CPU);
* ``multiworker``: ``MultiWorkerMirroredStrategy`` across machines, configured by the
  ``TF_CONFIG`` environment variable of each worker (README: "Training on GPUs").

``--precision auto`` computes in ``mixed_float16`` on GPUs (float32 variables, dynamic loss
scaling) and in float32 on the CPU, where float16 kernels are slow or missing.

``--batch-size`` is always the global batch: each of R replicas takes ``batch / R`` images
of it, the loss is normalised by the positives of the whole batch and the gradients are
summed across replicas before clipping, so R replicas take the same steps as one device
(``tests/train/test_distribute.py`` checks it with two logical CPUs).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

DISTRIBUTE = ("auto", "none", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "mixed_float16")
# sdk.train.pipeline builds them; named here so ``sdk --help`` stays light
INPUT_PIPELINES = ("thread", "tfdata")
DEFAULT_INPUT_PIPELINE = "thread"


class DistributeError(RuntimeError):
    """A strategy that cannot run here (no TF_CONFIG, batch not divisible, ...)."""


@dataclass(frozen=True)
class DeviceOptions:
    """How to place training; not part of the optimisation options (a checkpoint written
    under one setting resumes under another)."""

    distribute: str = "auto"
    precision: str = "auto"
    input_pipeline: str = DEFAULT_INPUT_PIPELINE

    def __post_init__(self) -> None:
        for field, value, allowed in (("distribute", self.distribute, DISTRIBUTE),
                                      ("precision", self.precision, PRECISIONS),
                                      ("input_pipeline", self.input_pipeline, INPUT_PIPELINES)):
            if value not in allowed:
                raise DistributeError(f"{field} {value!r}: choose one of {list(allowed)}")


def make_strategy(kind: str):
    """The ``tf.distribute`` strategy for ``kind`` (see the module docstring).

    Multi-worker must be created before TensorFlow runs any op, so call this first."""
    import tensorflow as tf

    if kind not in DISTRIBUTE:
        raise DistributeError(f"distribute {kind!r}: choose one of {list(DISTRIBUTE)}")
    if kind == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise DistributeError("--distribute multiworker needs the TF_CONFIG environment "
                                  "variable on every worker (README: Training on GPUs)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if kind == "auto":
        kind = "mirrored" if gpus else "none"
    if kind == "none":
        return tf.distribute.get_strategy()
    devices = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def is_distributed(strategy) -> bool:
    """True for a real strategy (even of one replica), False for TensorFlow's default."""
    import tensorflow as tf

    return strategy is not tf.distribute.get_strategy() or tf.distribute.has_strategy()


def worker(strategy) -> tuple[int, int]:
    """(index of this worker, number of workers): (0, 1) except under multi-worker."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return 0, 1
    spec = resolver.cluster_spec().as_dict()
    workers = sum(len(spec.get(kind, [])) for kind in ("chief", "worker"))
    offset = len(spec.get("chief", [])) if resolver.task_type == "worker" else 0
    return offset + int(resolver.task_id or 0), workers


def is_chief(strategy) -> bool:
    """Whether this process writes checkpoints and the trained model (worker 0)."""
    return worker(strategy)[0] == 0


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``mixed_float16`` when TensorFlow sees a GPU, else ``float32``."""
    import tensorflow as tf

    if precision == "auto":
        return "mixed_float16" if tf.config.list_logical_devices("GPU") else "float32"
    return precision


def describe(strategy, precision: str, input_pipeline: str) -> dict[str, Any]:
    """What the model card records about where training ran."""
    index, workers = worker(strategy)
    distributed = is_distributed(strategy)
    devices = list(strategy.extended.worker_devices) if distributed else []
    return {"strategy": type(strategy).__name__ if distributed else "none",
            "replicas": int(strategy.num_replicas_in_sync), "workers": workers,
            "worker_index": index, "devices": devices or ["default"],
            "precision": precision, "input_pipeline": input_pipeline,
            "tf_config": json.loads(os.environ["TF_CONFIG"]).get("task")
            if workers > 1 else None}
