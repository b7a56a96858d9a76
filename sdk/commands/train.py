"""``sdk train``: train the Fast or Accurate detector on a COCO / YOLO / VOC dataset."""

from __future__ import annotations

from pathlib import Path

import click

from sdk.models import ARCHITECTURES
from sdk.train.distribute import DEFAULT_INPUT_PIPELINE, DISTRIBUTE, INPUT_PIPELINES, PRECISIONS


@click.command()
@click.option("--arch", type=click.Choice(sorted(ARCHITECTURES)), default=None,
              help="Architecture [default: fast, or that of --init].")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="Dataset root (COCO, YOLO or VOC layout).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder: checkpoints, final weights, model card.")
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=2e-3, show_default=True,
              help="Peak learning rate of the warm-up + cosine schedule.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--input-size", type=click.IntRange(32), default=None,
              help="Override the architecture's input size (square).")
@click.option("--init", "init", default=None, metavar="MODEL",
              help="Start from trained weights: 'fast', 'accurate', a run folder or a weights "
                   "file. Backbone, features and box head are kept; class scores are kept for "
                   "the classes the model knows by name and start fresh for new ones.")
@click.option("--backbone-weights", default="none", show_default=True, metavar="none|imagenet|FILE",
              help="Start the MobileNetV2 backbone from 'imagenet' (downloads Keras' weights) "
                   "or a local weights file (e.g. Keras' ImageNet file copied to an offline "
                   "machine).")
@click.option("--resume/--no-resume", default=False, help="Continue from OUT/checkpoint.")
@click.option("--distribute", type=click.Choice(DISTRIBUTE), default="auto", show_default=True,
              help="auto: MirroredStrategy over this machine's GPUs if any, else one device; "
                   "multiworker: across machines (TF_CONFIG; see README).")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="auto: mixed_float16 on GPUs, float32 on the CPU.")
@click.option("--input-pipeline", type=click.Choice(INPUT_PIPELINES),
              default=DEFAULT_INPUT_PIPELINE, show_default=True,
              help="Background thread or tf.data (see BENCHMARKS.md).")
@click.option("--eval-split", default="val", show_default=True,
              help="Split evaluated at the end ('' to skip).")
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
def train(arch: str | None, data_dir: Path, out: Path, epochs: int, batch_size: int, lr: float,
          seed: int, input_size: int | None, init: str | None, backbone_weights: str,
          resume: bool, distribute: str, precision: str, input_pipeline: str, eval_split: str,
          as_json: bool) -> None:
    """Train ARCH on DATA into OUT, checkpointing every epoch (use --resume to continue)."""
    import json

    from sdk.commands.console import print_rows, progress_bar
    from sdk.data import DataError
    from sdk.models.transfer import InitError
    from sdk.train.distribute import DeviceOptions, DistributeError
    from sdk.train.loop import ResumeError, TrainOptions
    from sdk.train.run import train_detector

    def log_epoch(row: dict) -> None:
        # one line per epoch so background runs (no terminal, no live bar) leave a trace
        click.echo(f"epoch {row['epoch']}/{epochs} " + " ".join(
            f"{k}={v:.4f}" for k, v in row.items() if k not in ("epoch", "seconds"))
            + f" ({row['seconds']:.0f} s)", err=True)

    opts = TrainOptions(epochs=epochs, batch_size=batch_size, learning_rate=lr, seed=seed)
    if (out / "checkpoint").exists() and not resume:
        raise click.UsageError(f"{out} already has a checkpoint: pass --resume to continue it "
                               f"or choose another --out")
    try:
        with progress_bar() as bar:
            card = train_detector(arch, data_dir, out, opts, resume=resume,
                                  input_size=input_size, eval_split=eval_split or None,
                                  backbone_weights=None if backbone_weights == "none"
                                  else backbone_weights, progress=bar, on_epoch=log_epoch,
                                  init=init, devices=DeviceOptions(distribute, precision,
                                                                   input_pipeline))
    except (DataError, ResumeError, InitError, DistributeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(card, indent=2))
        return
    rows = [{"split": split, **m} for split, m in card["metrics"].items()]
    print_rows(f"{card['arch']} trained in {card['train_seconds']:.0f} s -> {out}", rows, False)
