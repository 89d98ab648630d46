"""A failed import's failed rows as data, a page at a time, for the SPA to correct cells in place:
the file's header, the column each header cell fills, and each failed row's original cells (not
escaped: JSON carries text as it is) with its kept errors."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass

from api.import_types.base import ImportType
from api.imports.models import ImportRowError
from api.reading.header import ColumnMapping, map_header
from api.reading.records import Record


@dataclass(frozen=True)
class FailedRow:
    line: int
    cells: list[str]
    errors: list[ImportRowError]


@dataclass(frozen=True)
class FailedRowPage:
    header: list[str]
    columns: list[str | None]  # the type's column each header cell fills; None: ignored
    items: list[FailedRow]


def header_columns(
    header: list[str], line: int, import_type: ImportType, mapping: ColumnMapping | None
) -> list[str | None]:
    mapped, _ = map_header(header, line, import_type.columns, mapping)
    by_index = {index: name for name, index in (mapped.positions if mapped else {}).items()}
    return [by_index.get(index) for index in range(len(header))]


async def failed_row_page(
    records: AsyncGenerator[Record, None],
    lines: Sequence[int],
    errors: Mapping[int, list[ImportRowError]],
    *,
    import_type: ImportType,
    mapping: ColumnMapping | None,
) -> FailedRowPage:
    """The header and the records starting on ``lines`` (in order), read until the last one."""
    wanted = set(lines)
    last = max(lines, default=0)
    header: list[str] | None = None
    header_line = 1
    found: list[FailedRow] = []
    # Closed when the rows end before the file: a workbook's spooled copy goes.
    async with contextlib.aclosing(records):
        async for line, cells in records:
            if header is None:
                header, header_line = list(cells), line
            elif line in wanted:
                padded = [*cells, *[""] * (len(header) - len(cells))]
                found.append(FailedRow(line, padded, errors.get(line, [])))
            if line >= last and header is not None:
                break
    header = header or []
    return FailedRowPage(header, header_columns(header, header_line, import_type, mapping), found)
