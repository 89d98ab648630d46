"""Kept row errors as a CSV that a spreadsheet opens safely.

A cell starting with =, +, -, @, tab or CR would be read by Excel or LibreOffice as a formula
(CSV injection); such cells get a leading apostrophe, which spreadsheets show as text. Every CSV
the API serves for people to open is ``spreadsheet_csv``: UTF-8 with a byte-order mark.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from api.imports.models import ImportRowError

HEADER = ("line", "column", "value", "code", "message")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# Excel on Windows reads a CSV without a byte-order mark in the machine's ANSI code page, which
# garbles accents; with one, as UTF-8. Other spreadsheets and csv readers skip it.
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def errors_csv_lines(errors: Iterable[ImportRowError], *, header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(HEADER)
    for err in errors:
        writer.writerow(
            [safe_cell(v) for v in (err.line, err.column, err.value, err.code, err.message)]
        )
    return out.getvalue()


def spreadsheet_csv(text: str) -> bytes:
    """CSV text as a download's bytes: UTF-8, behind a byte-order mark."""
    return (BOM + text).encode("utf-8")
