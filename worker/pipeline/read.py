"""Reading a stored file into a table: decode, split records, map the header, validate each
row with the type's pydantic model, and stream the rows to PostgreSQL in one COPY.

Two destinations: the staging table (every file can go there; the checks then run over it), or
straight into the type's own table inside the apply transaction, the fast path for a file that
turns out clean.

Row-level errors are collected as they are found; file-level errors (not text, empty file,
header problems, broken quoting) stop the read, since no row could be trusted after them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

import asyncpg
from pydantic import ValidationError

from api.import_types.base import DirectCopy, ImportType
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

# Rows between two progress reports while a chunk is read.
PROGRESS_ROWS = 4096

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


class RowsRejected(Exception):
    """A row failed while rows were written straight into their table: the write is void."""


Shape = Callable[[int, Any], tuple[Any, ...]]
"""Makes the COPY record of a valid row from its line and its validated row."""


def _staged_records(import_type: ImportType) -> Shape:
    record = import_type.record
    return lambda line, row: (line, True, *record(row))


class _Rows:
    """Turns records into COPY records or row errors, once the header is known.

    With ``strict``, the first row error raises ``RowsRejected``; otherwise row errors are
    collected, and a bad row whose key is readable is still staged (``cells_ok`` false) so the
    checks against other rows and stored data report every problem in one round.
    """

    def __init__(
        self,
        import_type: ImportType,
        collector: ErrorCollector,
        today: date,
        shape: Shape,
        *,
        strict: bool = False,
    ) -> None:
        self.import_type = import_type
        self.collector = collector
        self.validate = import_type.row_validator(today)
        self.pick: Callable[[list[str]], Sequence[str]] = _no_cells
        self.shape = shape
        self.strict = strict
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
            assert header is not None
            self.header = header
            self.pick = _picker([header.positions.get(c.name) for c in self.import_type.columns])

    def stage(self, records: list[Record]) -> list[tuple[Any, ...]]:
        header = self.header
        assert header is not None
        width = header.width
        pick, validate = self.pick, self.validate
        check = validate.check
        import_type, collector, shape, strict = (
            self.import_type,
            self.collector,
            self.shape,
            self.strict,
        )
        out: list[tuple[Any, ...]] = []
        append = out.append
        for line, cells in records:
            if len(cells) != width and not _only_blank_extra(cells, width):
                if strict:
                    raise RowsRejected
                collector.add_row([_field_count(line, len(cells), width)])
                continue
            in_order = pick(cells)
            try:
                row = check(in_order)
            except ValidationError:
                if strict:
                    raise RowsRejected from None
                if collector.full:
                    collector.bad_rows += 1
                else:
                    errors = validate(line, in_order)[1]
                    assert errors is not None
                    collector.add_row(errors)
                partial = import_type.partial_record(in_order)
                if partial is not None:
                    append((line, False, *partial))
                continue
            append(shape(line, row))
        self.rows += len(records)
        return out


def _no_cells(cells: list[str]) -> Sequence[str]:
    raise AssertionError("rows come after the header")


def _picker(positions: list[int | None]) -> Callable[[list[str]], Sequence[str]]:
    """The cells of a record in the type's column order; "" for a column the file lacks."""
    if len(positions) > 1 and all(p is not None for p in positions):
        return itemgetter(*positions)  # a tuple, in C
    return lambda cells: tuple("" if p is None else cells[p] for p in positions)


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


class _FileRows:
    """One pass over a stored file: its rows as COPY records, and what the pass found.

    ``records()`` is an async iterable for a single streaming COPY, so PostgreSQL stores the rows
    of one chunk while Python parses the next: the two run in different processes, on both cores.
    The file is read on a connection of its own, since the job's connection is busy copying.
    """

    def __init__(
        self,
        chunks: Callable[[], AsyncIterator[bytes]],
        rows: _Rows,
        progress: Progress,
        encoding: str | None,
    ) -> None:
        self._chunks = chunks
        self._rows = rows
        self._progress = progress
        self._reader = RecordReader(encoding=encoding)
        self.file_errors: list[RowError] = []

    @property
    def result(self) -> ReadResult:
        if self.file_errors:
            return ReadResult(self._rows.rows, self.file_errors)
        if self._rows.header is None:
            return ReadResult(
                0, [_file_error("file_empty", "The file is empty: it has no header line.")]
            )
        if self._rows.rows == 0:
            return ReadResult(
                0, [_file_error("file_empty", "The file has a header but no data rows.")]
            )
        return ReadResult(self._rows.rows)

    async def records(self) -> AsyncIterator[tuple[Any, ...]]:
        """Every record to COPY; stops early, with ``file_errors`` set, at a file-level error."""
        reader, progress = self._reader, self._progress
        try:
            async for chunk in self._chunks():
                parsed = reader.feed(chunk)
                # A stored chunk holds some 20,000 rows, a good part of a second of Python on a
                # busy (and niced) worker: count them a slice at a time, and let the heartbeat
                # report each slice, so that the progress an admin watches keeps moving.
                for start in range(0, len(parsed), PROGRESS_ROWS):
                    for record in self._take(parsed[start : start + PROGRESS_ROWS]):
                        yield record
                    if self.file_errors:
                        return
                    progress.rows = self._rows.rows
                    await asyncio.sleep(0)
                progress.bytes = reader.bytes_consumed
                if progress.lost:
                    raise ImportLost
            for record in self._take(reader.finish()):
                yield record
        except NotTextError:
            self.file_errors = [_file_error("not_text", NOT_TEXT)]
        except CsvSyntaxError as exc:
            self.file_errors = [_file_error("field_count", exc.message, exc.line)]
        progress.rows = self._rows.rows

    def _take(self, records: list[Record]) -> list[tuple[Any, ...]]:
        rows = self._rows
        if rows.header is None:
            if not records:
                return []  # the reader holds back the first bytes until it knows the encoding
            line, cells = records[0]
            rows.take_header(line, cells)
            if rows.file_errors:
                self.file_errors = rows.file_errors
                return []
            records = records[1:]
        return rows.stage(records)


async def read_into_staging(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    progress: Progress,
    collector: ErrorCollector,
    today: date,
) -> ReadResult:
    """Read the whole file into the staging table: good rows, and the keys of bad ones."""
    encoding: str | None = None
    while True:
        rows = _Rows(import_type, collector, today, _staged_records(import_type))
        source = _FileRows(chunks, rows, progress, encoding)
        try:
            await stage.copy_rows(conn, import_type, source.records())
        except Utf8FallbackNeeded:
            # Not UTF-8 after all: what Excel on Windows writes. Start over from the first byte.
            await stage.truncate(conn)
            collector.clear()
            encoding = "cp1252"
            continue
        return source.result


async def read_into_table(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    direct: DirectCopy,
    progress: Progress,
    today: date,
) -> ReadResult:
    """Copy a file's rows straight into their table, in the caller's transaction.

    The optimistic path for a file expected to be clean: ``RowsRejected`` at the first row
    with a bad cell (or a file-level error, or a file that is not UTF-8), and the table's own
    constraints refuse repeated or existing keys. On either, the caller rolls back and reads
    the file again through the staging table, which reports every problem.
    """
    rows = _Rows(import_type, ErrorCollector(0), today, direct.record, strict=True)
    source = _FileRows(chunks, rows, progress, None)

    async def records() -> AsyncIterator[tuple[Any, ...]]:
        try:
            async for record in source.records():
                yield record
        except Utf8FallbackNeeded:
            raise RowsRejected from None
        if source.result.file_errors:  # a file-level error, or a file with no rows
            raise RowsRejected

    await conn.copy_records_to_table(direct.table, records=records(), columns=direct.columns)
    return source.result


async def read_batches(
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    progress: Progress,
    today: date,
    size: int,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """A clean file's staged records, ``size`` at a time; ``RowsRejected`` at the first
    problem (a bad row, a file-level error, a file that is not UTF-8)."""
    rows = _Rows(import_type, ErrorCollector(0), today, _staged_records(import_type), strict=True)
    source = _FileRows(chunks, rows, progress, None)
    batch: list[tuple[Any, ...]] = []
    try:
        async for record in source.records():
            batch.append(record)
            if len(batch) >= size:
                yield batch
                batch = []
    except Utf8FallbackNeeded:
        raise RowsRejected from None
    if source.result.file_errors:
        raise RowsRejected
    if batch:
        yield batch
