"""A resumable training loop with checkpoints, a cosine schedule and a progress bar, on one
device or under a ``tf.distribute`` strategy (:mod:`sdk.train.distribute`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sdk.data import Dataset
from sdk.data.errors import data_error
from sdk.models.config import DetectorConfig
from sdk.train.batches import BatchStream
from sdk.train.distribute import DeviceOptions
from sdk.train.step import inner_optimizer, make_optimizer, make_train_step

__all__ = ["CKPT_DIR", "Checkpointer", "DeviceOptions", "ResumeError", "TrainOptions",
           "make_optimizer", "make_train_step", "train_loop"]

CKPT_DIR = "checkpoint"


class ResumeError(RuntimeError):
    """A checkpoint that cannot be continued with the data given."""


@dataclass(frozen=True)
class TrainOptions:
    """Optimisation settings; recorded in the model card."""

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 300
    weight_decay: float = 1e-4
    seed: int = 0
    clipnorm: float = 10.0


class Checkpointer:
    """Latest model + optimizer state in ``out/checkpoint`` (atomic: temp folder + rename)."""

    def __init__(self, out: Path):
        self.dir = out / CKPT_DIR

    def exists(self) -> bool:
        return (self.dir / "state.json").is_file()

    def save(self, net, optimizer, state: dict[str, Any]) -> None:
        tmp = self.dir.with_name(CKPT_DIR + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        net.save_weights(tmp / "model.weights.h5")
        np.savez(tmp / "optimizer.npz", *[v.numpy() for v in inner_optimizer(optimizer).variables])
        (tmp / "state.json").write_text(json.dumps(state, indent=2))
        old = self.dir.with_name(CKPT_DIR + ".old")
        if self.dir.exists():
            os.replace(self.dir, old)
        os.replace(tmp, self.dir)
        if old.exists():
            import shutil

            shutil.rmtree(old)

    def load_weights(self, net) -> dict[str, Any]:
        """Load the checkpoint's model weights into ``net``; return the state saved with them.

        A running training replaces the folder after every epoch, possibly between the
        reads, so the state is read before and after the load until both agree."""
        for _ in range(3):
            before = (self.dir / "state.json").read_text()
            net.load_weights(self.dir / "model.weights.h5")
            if (self.dir / "state.json").read_text() == before:
                return json.loads(before)
        raise RuntimeError(f"{self.dir}: rewritten during every load attempt; try again")

    def load_optimizer(self, optimizer, variables) -> None:
        """Build ``optimizer`` over ``variables`` and load its saved slots (same order)."""
        optimizer.build(variables)
        saved = np.load(self.dir / "optimizer.npz")
        slots = inner_optimizer(optimizer).variables
        if len(saved.files) != len(slots):
            raise ResumeError(f"{self.dir / 'optimizer.npz'}: {len(saved.files)} optimizer "
                              f"variables, this model has {len(slots)}; resume it with the "
                              "architecture and options it was written with")
        for i, var in enumerate(slots):
            var.assign(saved[f"arr_{i}"])


def train_loop(net, cfg: DetectorConfig, data: Dataset, out: Path, opts: TrainOptions,
               resume: bool = False, on_epoch: Callable[[dict], None] | None = None,
               progress: Any = None, start: dict[str, Any] | None = None,
               devices: DeviceOptions | None = None, strategy: Any = None) -> dict[str, Any]:
    """Train ``net`` in place; returns the final state (per-epoch history, options, what the
    run started from, where it ran), the same state the checkpoint keeps.

    ``start`` is the record of the weights ``net`` starts from (``--init``), kept in the
    state; ``strategy`` defaults to the one ``devices.distribute`` asks for."""
    import keras

    from sdk.train import distribute as dist_mod
    from sdk.train.fused import batch_norm_kind, for_training
    from sdk.train.pipeline import make_pipeline
    from sdk.train.step import make_distributed_step

    devices = devices or DeviceOptions()
    strategy = strategy if strategy is not None else dist_mod.make_strategy(devices.distribute)
    precision = dist_mod.resolve_precision(devices.precision)
    replicas, distributed = (int(strategy.num_replicas_in_sync),
                             dist_mod.is_distributed(strategy))
    if opts.batch_size % replicas:
        raise dist_mod.DistributeError(f"--batch-size {opts.batch_size} does not split over "
                                       f"{replicas} "
                          "replicas: pass a multiple of the replica count")
    if len(data.samples) < opts.batch_size:
        raise data_error(data.root, None, f"{len(data.samples)} training images, fewer than "
                                          f"one batch (--batch-size {opts.batch_size})")
    keras.utils.set_random_seed(opts.seed)
    steps = BatchStream.steps_for(data, opts.batch_size)
    ckpt = Checkpointer(out)
    fingerprint = data.fingerprint()
    state: dict[str, Any] = {"epoch": 0, "history": [], "options": asdict(opts),
                             "dataset_sha256": fingerprint, "init": start}
    if resume and ckpt.exists():
        restored = ckpt.load_weights(net)
        trained_on = restored.get("dataset_sha256", fingerprint)  # older checkpoints: unknown
        if trained_on != fingerprint:
            raise ResumeError(
                f"{ckpt.dir} was trained on another dataset (sha256 {trained_on[:12]}..., "
                f"this one is {fingerprint[:12]}...): resume it on the same data, or train "
                "into a new --out")
        # the run continues under the options given now (e.g. a larger --epochs)
        state = {"init": None, **restored, "options": asdict(opts),
                 "dataset_sha256": fingerprint}
    setup = {**dist_mod.describe(strategy, precision, devices.input_pipeline),
             "batch_norm": batch_norm_kind(replicas > 1)}
    state["devices"] = setup
    # Steps run on a kernel-optimized copy; ``net`` gets its weights back before each save.
    with strategy.scope():
        optimizer = make_optimizer(opts, steps * opts.epochs,
                                   mixed_precision=precision == "mixed_float16")
        trainee = for_training(net, synchronized=replicas > 1,
                               dtype="mixed_float16" if precision == "mixed_float16" else None)
        if state["epoch"]:
            ckpt.load_optimizer(optimizer, trainee.trainable_variables)
        else:  # built before the step is traced: a trace that creates variables runs twice
            optimizer.build(trainee.trainable_variables)
    # A resumed run draws new shuffles and augmentations, not a replay of epoch 1's.
    seed = opts.seed if state["epoch"] == 0 else [opts.seed, state["epoch"]]
    pipeline = make_pipeline(devices.input_pipeline, data, cfg, opts.batch_size, seed=seed,
                             shard=dist_mod.worker(strategy))
    if distributed:  # per-replica slices of each batch, prefetched to the replicas' devices
        per_replica = opts.batch_size // replicas
        dist = iter(strategy.distribute_datasets_from_function(
            lambda _: pipeline.dataset().rebatch(per_replica, drop_remainder=True)))
        dist_step = make_distributed_step(strategy, trainee, optimizer, cfg)

        def run_step():
            return dist_step(next(dist))
    else:
        batches, one_step = pipeline.numpy(), make_train_step(trainee, optimizer, cfg)

        def run_step():
            return one_step(*next(batches))
    chief = dist_mod.is_chief(strategy)
    task = progress.add_task("train", total=steps * opts.epochs,
                             completed=steps * state["epoch"]) if progress else None
    for epoch in range(state["epoch"], opts.epochs):
        t0, sums = time.time(), np.zeros(3)
        for i in range(steps):
            sums += np.array([float(v) for v in run_step()])
            if progress:
                progress.update(task, advance=1, description=f"epoch {epoch + 1}/{opts.epochs} "
                                f"loss {sums[0] / (i + 1):.3f}")
        row = {"epoch": epoch + 1, "loss": sums[0] / steps, "box_loss": sums[1] / steps,
               "cls_loss": sums[2] / steps, "seconds": round(time.time() - t0, 1)}
        state = {**state, "epoch": epoch + 1, "history": [*state["history"], row]}
        net.set_weights(trainee.get_weights())
        if chief:  # the other workers of a multi-worker run hold the same weights
            ckpt.save(net, optimizer, state)
        if on_epoch:
            on_epoch(row)
    from sdk.train.precise_bn import recalibrate_batchnorm

    # Under a strategy the canonical model (one device, plain batch norm) is recalibrated.
    recalibrate_batchnorm(net if distributed else trainee, pipeline.numpy())
    if not distributed:
        net.set_weights(trainee.get_weights())
    return state
