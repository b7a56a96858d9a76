"""Hostile free text, on SQLite and PostgreSQL: control and format characters are refused
with a 400 naming the field, names are normalized, and no CSV cell can start a formula."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

import pytest

from benchmarks.example_reports import example_report
from device_bench.csv_export import to_csv

URL = "/api/v1/reports"

HIDDEN = {
    "NUL": "\x00",  # PostgreSQL cannot store it (was a 500)
    "ESC": "\x1b[2J",  # a terminal escape sequence
    "RLO": "\u202e",  # right-to-left override
    "LRI": "\u2066",  # left-to-right isolate
    "ZWSP": "\u200b",  # zero-width space
    "ZWJ": "\u200d",
    "BOM": "\ufeff",
    "LS": "\u2028",  # line separator
}
FIELDS = {
    "device.name": lambda r, s: r["device"].update(name=f"Pixel{s}7"),
    "device.user_agent": lambda r, s: r["device"].update(user_agent=f"Mozilla{s}"),
    "device.platform": lambda r, s: r["device"].update(platform=f"Android{s}"),
    "runtime.version": lambda r, s: r["runtime"].update(version=f"4.22{s}"),
    "runtime.gpu_renderer": lambda r, s: r["runtime"].update(gpu_renderer=f"Adreno{s}"),
    "model.name": lambda r, s: r["model"].update(name=f"fast{s}"),
    "notes": lambda r, s: r.update(notes=f"ok{s}"),
}


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def test_control_and_format_characters_are_refused(post: Any, client: Any) -> None:
    for field, put in FIELDS.items():
        for name, char in HIDDEN.items():
            report = example_report()
            put(report, char)
            resp = post(report)
            assert resp.status_code == 400, (field, name, resp.status_code)
            details = resp.json["details"]
            assert [d["loc"] for d in details] == [field], (field, name, details)
            assert f"U+{ord(char[0]):04X}" in details[0]["msg"]
    assert client.get(URL).json["items"] == []  # nothing stored
    assert post(example_report()).status_code == 201  # the store still works


def test_notes_may_hold_lines_and_tabs(post: Any) -> None:
    assert post(example_report(notes="warm phone\n\tcharging")).status_code == 201


def test_names_are_normalized_to_one_key(post: Any, client: Any) -> None:
    # NBSP, ideographic space, runs of spaces, "e" + combining acute (NFD) vs precomposed
    spellings = ["  Pixel\u00a07  e\u0301", "Pixel 7 \u00e9", "Pixel \u30007\u3000\u00e9 "]
    for name in spellings:
        assert post(example_report({"device": {"name": name}})).status_code == 201
    stored = {item["report"]["device"]["name"] for item in client.get(URL).json["items"]}
    assert stored == {"Pixel 7 \u00e9"}
    cells = client.get("/api/v1/leaderboard").json["cells"]
    assert [(c["device"], c["count"]) for c in cells] == [("Pixel 7 \u00e9", 3)]


@pytest.mark.parametrize("name", [" ", "\u00a0\u3000"])
def test_blank_names_are_refused(post: Any, name: str) -> None:
    resp = post(example_report({"device": {"name": name}}))
    assert resp.status_code == 400 and resp.json["details"][0]["loc"] == "device.name"


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _formula_cells(records: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: a formula character first, ignoring blanks."""
    return [
        cell for record in records for cell in record
        if unicodedata.normalize("NFKC", cell).lstrip()[:1] in ("=", "+", "-", "@")
    ]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    ["x\r=1+1", "x\n=1+1", "x\r\n@SUM(A1)", " =1+1", "\u00a0=1+1", "\uff1d1+1", "\uff0bc", "\t-2"],
)
def test_no_csv_cell_starts_a_formula(value: str) -> None:
    records = _records(to_csv([{"device": value, "fps": -1.5}], ["device", "fps"]))
    assert len(records) == 2, records  # header + one record: a CR or LF starts none
    assert records[1][0] in (value, "'" + value)  # the text survives, at most quote-prefixed
    assert _formula_cells([records[1][:1]]) == []
    assert records[1][1] == "-1.5"  # numbers stay numbers


HOSTILE = {
    "device": {"name": "\uff1dHYPERLINK(1)", "platform": " @SUM(1)"},  # full-width =, blank
    "runtime": {"version": " +1"},
    "model": {"name": "\u00a0-1+1"},
}


def test_downloads_guard_every_hostile_cell(post: Any, client: Any) -> None:
    assert post(example_report(HOSTILE)).status_code == 201
    for path in ("/api/v1/reports.csv", "/api/v1/leaderboard.csv"):
        records = _records(client.get(path).text)
        assert len(records) == 2, (path, records)
        assert _formula_cells(records) == [], path
