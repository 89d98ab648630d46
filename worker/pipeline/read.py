"""Reading a stored file into the staging table: decode, split records, map the header,
validate each row with the type's pydantic model, and COPY good rows in batches.

Row-level errors are collected as they are found; file-level errors (not text, empty file,
header problems, broken quoting) stop the read, since no row could be trusted after them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg

from api.import_types.base import ImportType
from api.import_types.row_error import RowError
from worker.pipeline import stage
from worker.pipeline.errors import ErrorCollector
from worker.pipeline.header import HeaderMap, map_header
from worker.pipeline.heartbeat import ImportLost, Progress
from worker.pipeline.records import (
    CsvSyntaxError,
    NotTextError,
    Record,
    RecordReader,
    Utf8FallbackNeeded,
)

BATCH_ROWS = 10_000

NOT_TEXT = (
    "The file is not a text CSV file (it looks like an image, a spreadsheet or another binary "
    "file); save it as CSV and upload it again."
)


@dataclass
class ReadResult:
    rows: int = 0
    file_errors: list[RowError] = field(default_factory=list)


def _file_error(code: str, message: str, line: int | None = None) -> RowError:
    return RowError(line=line, column=None, value=None, code=code, message=message)


class _Rows:
    """Turns records into staged tuples or row errors, once the header is known."""

    def __init__(self, import_type: ImportType, collector: ErrorCollector, today: date) -> None:
        self.import_type = import_type
        self.collector = collector
        self.context: dict[str, Any] = {"today": today}
        self.header: HeaderMap | None = None
        self.file_errors: list[RowError] = []
        self.rows = 0

    def take_header(self, line: int, cells: list[str]) -> None:
        header, errors = map_header(cells, line, self.import_type.columns)
        if header is not None:
            errors = self.import_type.header_errors(header.positions.keys(), line)
        if errors:
            self.file_errors = errors
        else:
            self.header = header

    def stage(self, records: list[Record], batch: list[tuple[Any, ...]]) -> None:
        header = self.header
        assert header is not None
        width, positions = header.width, header.positions.items()
        import_type, collector, context = self.import_type, self.collector, self.context
        for line, cells in records:
            self.rows += 1
            if len(cells) != width and not _only_blank_extra(cells, width):
                collector.add_row([_field_count(line, len(cells), width)])
                continue
            values = {name: cells[i].strip() for name, i in positions}
            row, errors = import_type.validate(line, values, context)
            if errors:
                collector.add_row(errors)
                partial = import_type.partial_record(values)
                if partial is not None:
                    batch.append((line, False, *partial))
            else:
                batch.append((line, True, *import_type.record(row)))


def _only_blank_extra(cells: list[str], width: int) -> bool:
    # Spreadsheets pad rows with trailing delimiters; blank extra cells carry no data.
    return len(cells) > width and not any(c.strip() for c in cells[width:])


def _field_count(line: int, cells: int, width: int) -> RowError:
    return RowError(
        line=line,
        column=None,
        value=None,
        code="field_count",
        message=f"This line has {cells} cells but the header has {width}; check for a "
        "missing or extra delimiter, or a cell that needs quotes.",
    )


async def read_into_staging(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    progress: Progress,
    collector: ErrorCollector,
    today: date,
) -> ReadResult:
    try:
        return await _read(conn, chunks, import_type, progress, collector, today, None)
    except Utf8FallbackNeeded:
        # Not UTF-8 after all: what Excel on Windows writes. Start over from the first byte.
        await stage.truncate(conn)
        collector.kept.clear()
        collector.bad_rows = 0
        return await _read(conn, chunks, import_type, progress, collector, today, "cp1252")


async def _read(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    progress: Progress,
    collector: ErrorCollector,
    today: date,
    encoding: str | None,
) -> ReadResult:
    reader = RecordReader(encoding=encoding)
    rows = _Rows(import_type, collector, today)
    batch: list[tuple[Any, ...]] = []

    async def take(records: list[Record]) -> bool:
        """False once a file-level error ends the read."""
        if rows.header is None:
            if not records:
                return True  # the reader holds back the first bytes until it knows the encoding
            line, cells = records[0]
            rows.take_header(line, cells)
            if rows.file_errors:
                return False
            records = records[1:]
        rows.stage(records, batch)
        if len(batch) >= BATCH_ROWS:
            await stage.copy_rows(conn, import_type, batch)
            batch.clear()
        return True

    try:
        async for chunk in chunks():
            if not await take(reader.feed(chunk)):
                return ReadResult(rows.rows, rows.file_errors)
            progress.rows, progress.bytes = rows.rows, reader.bytes_consumed
            if progress.lost:
                raise ImportLost
            await asyncio.sleep(0)  # let the heartbeat report between chunks
        if not await take(reader.finish()):
            return ReadResult(rows.rows, rows.file_errors)
    except NotTextError:
        return ReadResult(rows.rows, [_file_error("not_text", NOT_TEXT)])
    except CsvSyntaxError as exc:
        return ReadResult(rows.rows, [_file_error("field_count", exc.message, exc.line)])
    if batch:
        await stage.copy_rows(conn, import_type, batch)
    progress.rows = rows.rows
    if rows.header is None:
        return ReadResult(
            0, [_file_error("file_empty", "The file is empty: it has no header line.")]
        )
    if rows.rows == 0:
        return ReadResult(
            0, [_file_error("file_empty", "The file has a header but no data rows.", None)]
        )
    return ReadResult(rows.rows)
