"""Shared CLI output helpers: rich tables, ``--json`` output and progress bars.

Tables fit the terminal (80 columns when the output is not a terminal) without cutting a
header or a value short: one record is shown as ``field | value`` lines, a few records
whose columns do not fit are shown transposed, and a long table that still does not fit
leaves out its last columns and says which (``--json`` has everything).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

console = Console(stderr=False)
TRANSPOSE_MAX_ROWS = 4  # more records than this read better as rows, even with fewer columns


def progress_bar() -> Progress:
    """The progress bar used by every long-running command (on stderr, so --json stays clean)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                    "{task.total}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True))


def print_rows(title: str, rows: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """Print ``rows`` as a table that fits the terminal, or as JSON when ``as_json``."""
    if as_json:
        click.echo(json.dumps(list(rows), indent=2))
        return
    console.print(title, style="bold", soft_wrap=True, markup=False, highlight=False)
    columns = list(rows[0]) if rows else []
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    width = console.width
    if len(rows) == 1:
        console.print(_table(["field", "value"], list(zip(columns, cells[0], strict=True))))
        return
    table = _table(columns, cells)
    if _width(table) <= width:
        console.print(table)
        return
    first = [r[0] for r in cells]
    if len(rows) <= TRANSPOSE_MAX_ROWS and len(set(first)) == len(first):
        flipped = _table([columns[0], *first],
                         [[c, *(r[i] for r in cells)] for i, c in enumerate(columns) if i])
        if _width(flipped) <= width:
            console.print(flipped)
            return
    kept = len(columns)
    while kept > 1 and _width(_table(columns[:kept], [r[:kept] for r in cells])) > width:
        kept -= 1
    console.print(_table(columns[:kept], [r[:kept] for r in cells]))
    click.echo(f"(not shown to fit {width} columns: {', '.join(columns[kept:])}; "
               f"--json has them)")


def _table(columns: Sequence[str], cells: Sequence[Sequence[str]]) -> Table:
    """A compact table: no vertical rules, headers never wrapped or cut."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0),
                  show_edge=False)
    for col in columns:
        table.add_column(col, no_wrap=True, min_width=len(col))
    for row in cells:
        table.add_row(*row)
    return table


def _width(table: Table) -> int:
    """Columns the table needs to show every header and value in full."""
    wide = Console(width=10_000)
    return wide.measure(table).maximum


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)
