"""``sdk import``: bring a detector trained elsewhere into the SDK (see :mod:`importers.build`).

Exit codes: 0 imported; 1 bad config, bad source or existing output (the message names
the file and the field); 2 bad command-line usage.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command(name="import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--config", "config", type=click.Path(path_type=Path), required=True,
              help="Import config (JSON): input, decoder, output tensor names, labels, nms "
                   "(example: importers/configs/nanodet-g-416.json).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder receiving saved_model/, detector.json and the licence files.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def import_(source: Path, config: Path, out: Path, overwrite: bool, as_json: bool) -> None:
    """Import SOURCE (a SavedModel folder or a TF.js model.json) as a canonical detector.

    The result is a folder every `sdk export` format and the parity gate accept.

    \b
    Example:
      sdk import models/sources/nanodet/nanodet.json \\
          --config importers/configs/nanodet-g-416.json --out models/nanodet
      sdk export --format tflite --model models/nanodet --quantize fp32
    """
    from importers.build import import_model
    from importers.errors import ImporterError
    from sdk.commands.console import print_rows
    from sdk.data import DataError

    try:
        result = import_model(source, config, out, overwrite=overwrite)
    except (ImporterError, DataError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.row(), indent=2))
    else:
        print_rows(f"sdk import {source}", [result.row()], False)
