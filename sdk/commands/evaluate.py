"""``sdk eval``: COCO metrics of a trained detector on a dataset split."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="eval")
@click.option("--model", default="fast", show_default=True,
              help="'fast', 'accurate' (bundled) or a run folder written by 'sdk train'.")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True)
@click.option("--split", default="test", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print metrics as JSON.")
def evaluate(model: str, data_dir: Path, split: str, as_json: bool) -> None:
    """COCO mAP@[.5:.95], mAP@.5, mAP@.75 and AP small/medium/large of MODEL on DATA/SPLIT."""
    from sdk.commands.console import print_rows
    from sdk.data import DataError, load_dataset
    from sdk.evaluate import evaluate_model
    from sdk.models.io import ModelNotFoundError

    try:
        metrics = evaluate_model(model, load_dataset(data_dir, split))
    except (DataError, ModelNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    print_rows(f"{model} on {data_dir}/{split}", [{"model": str(model), **metrics}], as_json)
