"""Mapping the header row of a file to the columns of an import type (docs/format.md, "Columns").

Header cells are compared after ``normalize_header``. Every problem is reported at once, in the
order of the header cells, then the missing columns in the order of the import type.

Trailing blank cells: a run of blank cells at the end of the header is ignored, and
``HeaderMap.width`` counts only the cells before it. Spreadsheets write such cells for a
trailing delimiter or for empty columns that were once formatted; the row checks accept blank
cells beyond ``width``. A blank cell with a named cell after it is an ``unknown_column`` error.

A column headed ``error`` (the one failed-rows.csv adds) is ignored, unless the type has a column
of that name. An import's column mapping (``columns``: header text -> column name, or None to
ignore that column) decides for the headers it names, before the usual spellings.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.import_types.row_error import ColumnSpec, RowError

_SEPARATORS = re.compile(r"[\s_-]+")

# The column failed-rows.csv adds with each row's errors: ignored when the file comes back.
ERROR_COLUMN = "error"

ColumnMapping = Mapping[str, str | None]
"""An import's ``columns``: a header's text -> the column it fills, or None to ignore it."""


def normalize_header(text: str) -> str:
    """Trim, drop byte-order marks, lower-case, and turn each run of spaces, hyphens and
    underscores into one underscore: ``" Tag  ID"`` and ``"tag-id"`` both give ``"tag_id"``."""
    return _SEPARATORS.sub("_", text.replace("\ufeff", "").strip().lower())


@dataclass(frozen=True)
class HeaderMap:
    """Where each column of the import type is in the records of a file."""

    positions: dict[str, int]  # canonical column name -> index of its cell in each record
    width: int  # header cells, trailing blank ones excluded


def map_header(
    cells: list[str],
    line: int,
    columns: Sequence[ColumnSpec],
    mapping: ColumnMapping | None = None,
) -> tuple[HeaderMap | None, list[RowError]]:
    """Map the header ``cells`` (on physical ``line``) to ``columns``, the import's ``mapping``
    first.

    Returns the map and no errors, or None and every ``unknown_column``, ``duplicate_column``
    and ``missing_column`` error found.
    """
    spellings = {
        normalize_header(spelling): column.name
        for column in columns
        for spelling in (column.name, *column.aliases)
    }
    mapped = {normalize_header(header): name for header, name in (mapping or {}).items()}
    width = len(cells)
    while width and not normalize_header(cells[width - 1]):
        width -= 1

    errors: list[RowError] = []
    positions: dict[str, int] = {}
    written_as: dict[str, str] = {}  # canonical name -> header text that claimed it first
    for index, cell in enumerate(cells[:width]):
        written = cell.replace("\ufeff", "").strip()
        key = normalize_header(cell)
        name = mapped[key] if key in mapped else spellings.get(key)
        if name is None and (key in mapped or key == ERROR_COLUMN):
            continue  # a column the import ignores
        if not key:
            message = (
                f"header cell {index + 1} (spreadsheet column {_column_letters(index)}) is blank; "
                "name the column or delete it"
            )
            errors.append(RowError(line, None, written, "unknown_column", message))
        elif name is None:
            message = _unknown_message(written, key, spellings, columns)
            errors.append(RowError(line, written, written, "unknown_column", message))
        elif name in positions:
            message = (
                f'"{written_as[name]}" and "{written}" both name the column "{name}"; '
                "keep only one of them"
            )
            errors.append(RowError(line, name, written, "duplicate_column", message))
        else:
            positions[name] = index
            written_as[name] = written

    for column in columns:
        if column.required and column.name not in positions:
            message = f'the required column "{column.name}" is missing; add it to the header'
            others = [
                f'"{alias}"' for alias in dict.fromkeys(column.aliases) if alias != column.name
            ]
            if others:
                message += f" (also accepted: {', '.join(others)})"
            errors.append(RowError(line, column.name, None, "missing_column", message))

    if errors:
        return None, errors
    return HeaderMap(positions=positions, width=width), []


def _unknown_message(
    written: str, key: str, spellings: dict[str, str], columns: Sequence[ColumnSpec]
) -> str:
    near = difflib.get_close_matches(key, spellings, n=1)
    if near:
        return f'unknown column "{written}"; did you mean "{spellings[near[0]]}"?'
    names = [f'"{column.name}"' for column in columns]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    return f'unknown column "{written}"; the columns of this import are {listed}'


def _column_letters(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", as spreadsheets name their columns."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
