"""A resumable CPU training loop with checkpoints, a cosine schedule and a progress bar."""

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
from sdk.models.config import DetectorConfig

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


def make_optimizer(opts: TrainOptions, total_steps: int):
    """AdamW on a linear-warmup + cosine schedule over ``total_steps``, clipped gradients."""
    import keras

    decay = max(1, total_steps - opts.warmup_steps)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay, alpha=0.01, warmup_target=opts.learning_rate,
        warmup_steps=opts.warmup_steps)
    return keras.optimizers.AdamW(schedule, weight_decay=opts.weight_decay,
                                  clipnorm=opts.clipnorm)


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
        np.savez(tmp / "optimizer.npz", *[v.numpy() for v in optimizer.variables])
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
        for i, var in enumerate(optimizer.variables):
            var.assign(saved[f"arr_{i}"])


def make_train_step(net, optimizer, cfg: DetectorConfig, jit_compile: bool = False):
    """One compiled optimizer step on a batch; returns (total, box, class) losses.

    ``jit_compile`` (XLA) is off for training: on this project's CPUs it made Fast's step
    5.5x slower (MODELS.md); ``benchmarks/train_probe.py`` can try it again (``jit=1``)."""
    import tensorflow as tf

    from sdk.train.losses import detection_loss

    @tf.function(reduce_retracing=True, jit_compile=jit_compile)
    def step(x, box_t, cls_t):
        with tf.GradientTape() as tape:
            codes, logits = net(x, training=True)
            # losses in float32 also when a mixed-precision model computes in bfloat16
            codes, logits = tf.cast(codes, tf.float32), tf.cast(logits, tf.float32)
            total, loc, cls = detection_loss(cfg.detection_head, codes, logits, box_t, cls_t)
        grads = tape.gradient(total, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables, strict=True))
        return total, loc, cls

    return step


def train_loop(net, cfg: DetectorConfig, data: Dataset, out: Path, opts: TrainOptions,
               resume: bool = False, on_epoch: Callable[[dict], None] | None = None,
               progress: Any = None) -> list[dict[str, Any]]:
    """Train ``net`` in place; returns the per-epoch history (also kept in the checkpoint)."""
    import keras

    from sdk.train.batches import BatchStream
    from sdk.train.fused import for_training

    keras.utils.set_random_seed(opts.seed)
    steps = BatchStream.steps_for(data, opts.batch_size)
    optimizer = make_optimizer(opts, steps * opts.epochs)
    ckpt = Checkpointer(out)
    fingerprint = data.fingerprint()
    state: dict[str, Any] = {"epoch": 0, "history": [], "options": asdict(opts),
                             "dataset_sha256": fingerprint}
    if resume and ckpt.exists():
        restored = ckpt.load_weights(net)
        trained_on = restored.get("dataset_sha256", fingerprint)  # older checkpoints: unknown
        if trained_on != fingerprint:
            raise ResumeError(
                f"{ckpt.dir} was trained on another dataset (sha256 {trained_on[:12]}..., "
                f"this one is {fingerprint[:12]}...): resume it on the same data, or train "
                "into a new --out")
        # the run continues under the options given now (e.g. a larger --epochs)
        state = {**restored, "options": asdict(opts), "dataset_sha256": fingerprint}
    # Steps run on a kernel-optimized copy; ``net`` gets its weights back before each save.
    trainee = for_training(net)
    if state["epoch"]:
        ckpt.load_optimizer(optimizer, trainee.trainable_variables)
    # A resumed run draws new shuffles and augmentations, not a replay of epoch 1's.
    seed = opts.seed if state["epoch"] == 0 else [opts.seed, state["epoch"]]
    stream = BatchStream(data, cfg, opts.batch_size, seed=seed)
    step_fn = make_train_step(trainee, optimizer, cfg)
    batches = iter(stream)
    task = progress.add_task("train", total=steps * opts.epochs,
                             completed=steps * state["epoch"]) if progress else None
    for epoch in range(state["epoch"], opts.epochs):
        t0, sums = time.time(), np.zeros(3)
        for i in range(steps):
            sums += np.array([float(v) for v in step_fn(*next(batches))])
            if progress:
                progress.update(task, advance=1, description=f"epoch {epoch + 1}/{opts.epochs} "
                                f"loss {sums[0] / (i + 1):.3f}")
        row = {"epoch": epoch + 1, "loss": sums[0] / steps, "box_loss": sums[1] / steps,
               "cls_loss": sums[2] / steps, "seconds": round(time.time() - t0, 1)}
        state = {**state, "epoch": epoch + 1, "history": [*state["history"], row]}
        net.set_weights(trainee.get_weights())
        ckpt.save(net, optimizer, state)
        if on_epoch:
            on_epoch(row)
    from sdk.train.precise_bn import recalibrate_batchnorm

    recalibrate_batchnorm(trainee, batches)
    net.set_weights(trainee.get_weights())
    return state["history"]
