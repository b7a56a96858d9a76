"""CSV export of leaderboard cells and reports, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from device_bench.store import StoredReport

REPORT_COLUMNS = (
    "report_id", "received_at", "valid", "reasons", "device", "platform", "runtime",
    "runtime_version", "backend", "threads", "model", "format", "quantization", "sha256",
    "timed", "runs", "duration_ms", "p50_ms", "p90_ms", "p99_ms", "min_ms", "max_ms",
    "mean_ms", "fps", "load_ms", "first_inference_ms", "matched_fraction",
)  # fmt: skip

# A cell starting with one of these is run as a formula by spreadsheet apps; prefix it
# with a quote so a hostile device name stays text (OWASP "CSV injection"). Spreadsheets
# skip leading blanks and read full-width forms (＝, ＋) as their ASCII twins, so the
# check looks at the first character that is not white space or a control, after NFKC.
_FORMULA_START = frozenset("=+-@")
_RISKY_FIRST = ("\t", "\r")  # OWASP's list: some apps act on these as well


def _is_formula(text: str) -> bool:
    if text.startswith(_RISKY_FIRST):
        return True
    for char in unicodedata.normalize("NFKC", text[:64]):
        if not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf")):
            return char in _FORMULA_START
    return False


def _cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and _is_formula(value) else value


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Render ``rows`` as CSV with a header; missing keys become empty cells.

    Lines end with CRLF (RFC 4180), so a cell holding a bare CR or LF is quoted and cannot
    start a new record.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c, "")) for c in columns])
    return out.getvalue()


def report_row(stored: StoredReport, received_iso: str) -> dict[str, Any]:
    """Flatten a stored report into the :data:`REPORT_COLUMNS` of one CSV line."""
    rep = stored.payload
    dev, rt, model, timing = rep["device"], rep["runtime"], rep["model"], rep["timing"]
    lat = timing["latency_ms"]
    return {
        "report_id": stored.id,
        "received_at": received_iso,
        "valid": stored.valid,
        "reasons": "; ".join(stored.reasons),
        "device": dev["name"],
        "platform": dev.get("platform") or "",
        "runtime": rt["name"],
        "runtime_version": rt.get("version") or "",
        "backend": rt["backend"],
        "threads": rt.get("threads") if rt.get("threads") is not None else "",
        "model": model["name"],
        "format": model["format"],
        "quantization": model["quantization"],
        "sha256": model["sha256"],
        "timed": timing["timed"],
        "runs": timing["runs"],
        "duration_ms": timing["duration_ms"],
        **{f"{k}_ms": lat[k] for k in ("p50", "p90", "p99", "min", "max", "mean")},
        "fps": timing["fps"],
        "load_ms": timing["load_ms"],
        "first_inference_ms": timing["first_inference_ms"],
        "matched_fraction": rep["accuracy"]["matched_fraction"],
    }
