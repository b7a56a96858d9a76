"""``sdk train``: train the Fast or Accurate detector on a COCO / YOLO / VOC dataset."""

from __future__ import annotations

from pathlib import Path

import click

from sdk.models import ARCHITECTURES


@click.command()
@click.option("--arch", type=click.Choice(sorted(ARCHITECTURES)), default="fast", show_default=True)
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
@click.option("--backbone-weights", type=click.Choice(["none", "imagenet"]), default="none",
              show_default=True, help="'imagenet' downloads Keras weights (needs internet).")
@click.option("--resume/--no-resume", default=False, help="Continue from OUT/checkpoint.")
@click.option("--eval-split", default="val", show_default=True,
              help="Split evaluated at the end ('' to skip).")
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
def train(arch: str, data_dir: Path, out: Path, epochs: int, batch_size: int, lr: float,
          seed: int, input_size: int | None, backbone_weights: str, resume: bool,
          eval_split: str, as_json: bool) -> None:
    """Train ARCH on DATA into OUT, checkpointing every epoch (use --resume to continue)."""
    import json

    from sdk.commands.console import print_rows, progress_bar
    from sdk.data import DataError
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
                                  else backbone_weights, progress=bar, on_epoch=log_epoch)
    except (DataError, ResumeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(card, indent=2))
        return
    rows = [{"split": split, **m} for split, m in card["metrics"].items()]
    print_rows(f"{arch} trained in {card['train_seconds']:.0f} s -> {out}", rows, False)
