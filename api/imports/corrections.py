"""A failed import's file with some cells replaced, written as a new CSV file to run again.

Cells are named by line (as the errors name it) and by column: the column an error names
(the type's field) or the file's header text. The copy is UTF-8 (with a byte-order mark) in the
file's own delimiter, whatever the original was (a workbook's sheet gives a CSV); each record is
written on the line it had, empty lines filling the gaps, so the errors of the next run name the
same lines as the ones the user corrected.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import AsyncGenerator, Mapping
from pathlib import PurePath
from typing import Any

from api.errors import Unprocessable
from api.import_types.base import ImportType
from api.imports.spool import SpooledFile
from api.reading.header import ColumnMapping, map_header, normalize_header
from api.reading.records import Record

Corrections = Mapping[int, Mapping[str, str]]
"""line -> column -> the cell's new value."""

_BREAK = re.compile(r"\r\n|\r|\n")
# Bytes gathered before a write to the spooled copy.
WRITE_BYTES = 64 * 1024


def corrected_name(filename: str) -> str:
    """``cases.xlsx`` -> ``cases-corrected.csv``; a corrected name stays as it is."""
    stem = PurePath(filename).stem or "upload"
    return f"{stem.removesuffix('-corrected')}-corrected.csv"


def _problem(detail: str, code: str, errors: list[dict[str, Any]]) -> Unprocessable:
    return Unprocessable(detail, code=code, errors=errors)


def _positions(
    header: list[str],
    line: int,
    import_type: ImportType,
    mapping: ColumnMapping | None,
    corrections: Corrections,
) -> dict[str, int]:
    """Where each column the corrections name is in the file's records; 422 for any the file
    does not have."""
    mapped, _ = map_header(header, line, import_type.columns, mapping)
    by_field = mapped.positions if mapped is not None else {}
    by_text: dict[str, int] = {}
    for index, cell in enumerate(header):
        by_text.setdefault(normalize_header(cell), index)
    positions: dict[str, int] = {}
    missing: list[dict[str, Any]] = []
    for at, cells in corrections.items():
        for column in cells:
            key = normalize_header(column)
            if column in by_field:
                positions[column] = by_field[column]
            elif key and key in by_text:
                positions[column] = by_text[key]
            else:
                missing.append(
                    {
                        "loc": ["body", str(at), column],
                        "message": f'The file has no column "{column}".',
                        "type": "column_not_in_file",
                    }
                )
    if missing:
        known = ", ".join(f'"{cell}"' for cell in header if cell.strip())
        raise _problem(
            f"Name a column of the file: its header has {known}.", "column_not_in_file", missing
        )
    return positions


async def write_corrected(
    records: AsyncGenerator[Record, None],
    corrections: Corrections,
    out: SpooledFile,
    *,
    import_type: ImportType,
    mapping: ColumnMapping | None,
    delimiter: str,
) -> None:
    """The file of ``records`` with the corrected cells, into ``out``; 422 naming every line
    that is not a data line of the file and every column it does not have."""
    text = io.StringIO()
    # The line terminator is what makes the writer quote a cell holding a line break.
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    pending = ["\ufeff"]
    size = 0
    current = 1  # the line the next record starts on
    positions: dict[str, int] | None = None
    found: set[int] = set()
    async with contextlib.aclosing(records):
        async for line, cells in records:
            if positions is None:  # the header
                positions = _positions(cells, line, import_type, mapping, corrections)
            elif line in corrections:
                found.add(line)
                cells = list(cells)
                for column, value in corrections[line].items():
                    at = positions[column]
                    cells.extend([""] * (at + 1 - len(cells)))
                    cells[at] = value
            text.seek(0)
            text.truncate()
            writer.writerow(cells)
            row = text.getvalue().removesuffix("\r\n")
            gap = max(0, line - current)
            pending.append("\r\n" * gap + row + "\r\n")
            current += gap + 1 + len(_BREAK.findall(row))
            size += len(row)
            if size >= WRITE_BYTES:
                await out.write("".join(pending).encode())
                pending.clear()
                size = 0
    await out.write("".join(pending).encode())
    await out.end()
    absent = sorted(set(corrections) - found)
    if absent:
        raise _problem(
            "Correct only data lines of the file, named as its errors name them.",
            "line_not_in_file",
            [
                {
                    "loc": ["body", str(line)],
                    "message": f"Line {line} is not a data line of the file.",
                    "type": "line_not_in_file",
                }
                for line in absent
            ],
        )
