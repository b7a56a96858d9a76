"""Shared CLI output helpers: rich tables, ``--json`` output and progress bars."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

console = Console(stderr=False)


def progress_bar() -> Progress:
    """The progress bar used by every long-running command (on stderr, so --json stays clean)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True))


def print_rows(title: str, rows: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """Print ``rows`` as a table, or as JSON when ``as_json``."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2))
        return
    table = Table(title=title)
    columns = list(rows[0]) if rows else []
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_fmt(row.get(c)) for c in columns))
    console.print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)
