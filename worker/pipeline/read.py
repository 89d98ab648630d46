"""Reading a stored file as rows: decode, split records (or read a workbook's sheet), map the
header, validate each row with the type's pydantic model, and stream the rows to PostgreSQL.

Three ways out: one COPY into the staging table (every file can go there; the checks then run
over it), one COPY straight into a table of the fast paths, or batches for the batched path.
The last two refuse at the first problem.

Row-level errors are collected as they are found; file-level errors (not text, empty file,
header problems, broken quoting) stop the read, since no row could be trusted after them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any

from pydantic import ValidationError

from api.import_types.dates import DateTally
from api.import_types.row_error import ImportWarning, RowError
from api.imports.file_format import FileFormat
from api.imports.lifecycle import ReadAs
from api.nul import NUL, SHOWN
from api.pg import Connection
from api.reading import encodings, workbooks
from api.reading.header import HeaderMap, map_header
from api.reading.records import (
    CsvSyntaxError,
    NotTextError,
    Record,
    RecordReader,
    Utf8FallbackNeeded,
    WorkbookFound,
)
from worker.pipeline import stage
from worker.pipeline.errors import ErrorCollector
from worker.pipeline.heartbeat import ImportLost, Progress
from worker.pipeline.job import Chunks, Job
from worker.pipeline.outcome import Refused
from worker.pipeline.sql.spec import DirectCopy

# Rows between two progress reports while a chunk is read.
PROGRESS_ROWS = 4096


@dataclass
class ReadResult:
    rows: int = 0
    file_errors: list[RowError] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    # The format, encoding and delimiter the file was read with, once known.
    read_as: ReadAs | None = None


def _file_error(code: str, message: str, line: int | None = None) -> RowError:
    return RowError(line=line, column=None, value=None, code=code, message=message)


Shape = Callable[[int, Any], tuple[Any, ...]]
"""Makes the COPY record of a valid row from its line and its validated row."""


def _staged_records(job: Job) -> Shape:
    record = job.statements.staging.record
    return lambda line, row: (line, True, *record(row))


class _Rows:
    """Turns records into COPY records or row errors, once the header is known.

    With ``strict``, the first row error raises ``Refused``; otherwise row errors are
    collected, and a bad row is still staged (``cells_ok`` false): with its key when that is
    readable, so the checks against other rows and stored data report every problem in one
    round, and by its line alone otherwise, so that every failed line is recorded.
    """

    def __init__(
        self, job: Job, collector: ErrorCollector, shape: Shape, *, strict: bool = False
    ) -> None:
        self.import_type = job.import_type
        self.partial = job.statements.staging.partial
        self.unkeyed = job.statements.staging.unkeyed
        self.collector = collector
        self.date_order = job.claim.date_order
        self.mapping = job.claim.columns
        self.validate = job.import_type.row_validator(job.today, self.date_order)
        self.dates = DateTally()
        self.date_positions: tuple[int, ...] = ()
        self.pick: Callable[[list[str]], Sequence[str]] = _no_cells
        self.shape = shape
        self.strict = strict
        self.header: HeaderMap | None = None
        self.file_errors: list[RowError] = []
        self.rows = 0

    def _nul_error(self, line: int, cells: list[str]) -> RowError:
        assert self.header is not None
        names = {position: name for name, position in self.header.positions.items()}
        position = next(i for i, cell in enumerate(cells) if NUL in cell)
        return _nul_error(line, names.get(position), cells[position])

    def take_header(self, line: int, cells: list[str]) -> None:
        if any(NUL in cell for cell in cells):
            self.file_errors = [_nul_error(line, None, next(c for c in cells if NUL in c))]
            return
        header, errors = map_header(cells, line, self.import_type.columns, self.mapping)
        if header is not None:
            errors = self.import_type.header_errors(header.positions.keys(), line)
        if errors:
            self.file_errors = errors
        else:
            assert header is not None
            self.header = header
            self.pick = _picker([header.positions.get(c.name) for c in self.import_type.columns])
            positions = header.positions
            dated = self.import_type.date_columns
            self.date_positions = tuple(positions[c] for c in dated if c in positions)

    def stage(self, records: list[Record], *, nul: bool = False) -> list[tuple[Any, ...]]:
        """The COPY records of these records; ``nul`` when some may hold a NUL character."""
        header = self.header
        assert header is not None
        width = header.width
        pick, validate = self.pick, self.validate
        check = validate.check
        partial_record, unkeyed, collector, shape, strict = (
            self.partial,
            self.unkeyed,
            self.collector,
            self.shape,
            self.strict,
        )
        date_positions, tally = self.date_positions, self.dates.add
        date_counts = self.dates.counts
        counted = date_counts.get
        out: list[tuple[Any, ...]] = []
        append = out.append
        for line, cells in records:
            if len(cells) != width:
                if len(cells) < width:  # a spreadsheet dropped the trailing delimiters
                    cells = cells + [""] * (width - len(cells))
                elif not _only_blank_extra(cells, width):
                    if strict:
                        raise Refused
                    collector.add_row([_field_count(line, len(cells), width)])
                    append((line, False, *unkeyed))
                    continue
            if nul and any(NUL in cell for cell in cells):
                if strict:
                    raise Refused
                collector.add_row([self._nul_error(line, cells)])
                append((line, False, *unkeyed))
                continue
            for position in date_positions:
                text = cells[position]
                seen = counted(text)  # DateTally.add, inlined: this runs for every row
                if seen is None:
                    tally(line, text)
                else:
                    date_counts[text] = seen + 1
            in_order = pick(cells)
            try:
                row = check(in_order)
            except ValidationError:
                if strict:
                    raise Refused from None
                collector.add_invalid(line, in_order, validate)
                partial = partial_record(in_order)
                append((line, False, *(unkeyed if partial is None else partial)))
                continue
            append(shape(line, row))
        self.rows += len(records)
        return out


def _nul_error(line: int, column: str | None, cell: str) -> RowError:
    """``invalid_character``: PostgreSQL stores no NUL, so the value shows it as ␀."""
    shown = cell.strip().replace(NUL, SHOWN)
    where = f"{column} holds" if column else "This line holds"
    return RowError(
        line,
        column,
        shown,
        "invalid_character",
        f"{where} a NUL character (shown as ␀), which cannot be stored; remove it. It often "
        "comes from a broken export or a file saved in another program's format.",
    )


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
    """One pass over a stored file, CSV text or a workbook's sheet: its rows as COPY records,
    and what the pass found.

    ``records()`` is an async iterable for a single streaming COPY, so PostgreSQL stores the rows
    of one chunk while Python parses the next: the two run in different processes, on both cores.
    The file is read on a connection of its own, since the job's connection is busy copying.
    """

    def __init__(
        self,
        chunks: Chunks,
        rows: _Rows,
        progress: Progress,
        encoding: str | None,
        sheet: str | None,
    ) -> None:
        self._chunks = chunks
        self._rows = rows
        self._progress = progress
        self._reader = RecordReader(encoding=encoding)
        self._sheet = sheet  # the workbook's sheet the import names, if any
        self._sheet_read: str | None = None  # the sheet read, once a workbook is open
        self._workbook_as: ReadAs | None = None
        self._sheet_last_line = 0  # the sheet's last row with data so far
        self.file_errors: list[RowError] = []

    @property
    def result(self) -> ReadResult:
        reader, rows = self._reader, self._rows
        read_as = self._workbook_as or (
            ReadAs(FileFormat.CSV, reader.encoding, reader.delimiter, reader.blank_rows)
            if reader.delimiter
            else None
        )
        if self._workbook_as and rows.header is not None:
            # Every row up to the last with data is the header, a data row or an empty one.
            read_as = replace(self._workbook_as, blank_rows=self._sheet_last_line - rows.rows - 1)
        if self.file_errors:
            return ReadResult(rows.rows, self.file_errors, read_as=read_as)
        what = "The file" if self._sheet_read is None else f'The sheet "{self._sheet_read}"'
        if rows.header is None:
            empty = _file_error("file_empty", f"{what} is empty: it has no header line.")
            return ReadResult(0, [empty], read_as=read_as)
        if rows.rows == 0:
            empty = _file_error("file_empty", f"{what} has a header but no data rows.")
            return ReadResult(0, [empty], read_as=read_as)
        unclear = rows.dates.unclear(rows.date_order)
        if unclear is not None:
            return ReadResult(rows.rows, [unclear], read_as=read_as)
        warning = rows.dates.warning(rows.date_order)
        return ReadResult(rows.rows, warnings=[warning] if warning else [], read_as=read_as)

    async def records(self) -> AsyncIterator[tuple[Any, ...]]:
        """Every record to COPY; stops early, with ``file_errors`` set, at a file-level error."""
        container = None
        try:
            try:
                async for batch in self._text_batches():
                    for record in batch:
                        yield record
            except WorkbookFound as found:  # raised before any record
                container = found.container
            if container is not None:
                async for batch in self._sheet_batches(container):
                    for record in batch:
                        yield record
        except NotTextError as exc:
            message = str(exc)
            self.file_errors = [_file_error("not_text", message[:1].upper() + message[1:] + ".")]
        except CsvSyntaxError as exc:
            self.file_errors = [_file_error("field_count", exc.message, exc.line)]
        except workbooks.SheetNotFound as exc:
            self.file_errors = [RowError(None, None, self._sheet, "sheet_not_found", str(exc))]
            self._workbook_as = ReadAs(exc.format) if exc.format else None
        self._progress.rows = self._rows.rows

    async def _text_batches(self) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The CSV text's COPY records, a slice of rows at a time (a generator per slice, not
        per record: a million rows pass through here)."""
        reader, progress = self._reader, self._progress
        async for chunk in self._chunks():
            parsed = reader.feed(chunk)
            # A stored chunk holds some 20,000 rows, a good part of a second of Python on a
            # busy (and niced) worker: count them a slice at a time, and let the heartbeat
            # report each slice, so that the progress an admin watches keeps moving.
            for start in range(0, len(parsed), PROGRESS_ROWS):
                yield self._take(parsed[start : start + PROGRESS_ROWS])
                if self.file_errors:
                    return
                progress.rows = self._rows.rows
                await asyncio.sleep(0)
            progress.bytes = reader.bytes_consumed
            if progress.lost:
                raise ImportLost
        yield self._take(reader.finish())

    async def _sheet_batches(self, container: str) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The workbook sheet's COPY records, a slice of rows at a time."""
        progress = self._progress
        async with workbooks.opened(self._chunks, container, self._sheet) as sheet:
            self._workbook_as = ReadAs(sheet.format)
            self._sheet_read = sheet.name
            while not sheet.done:
                records = sheet.take(PROGRESS_ROWS)
                if records:
                    self._sheet_last_line = records[-1][0]
                # Cells come from the library, not from decoded bytes: any may hold a NUL.
                yield self._take(records, nul=True)
                if self.file_errors:
                    return
                progress.rows = self._rows.rows
                progress.bytes = sheet.bytes_read
                await asyncio.sleep(0)
                if progress.lost:
                    raise ImportLost

    def _take(self, records: list[Record], *, nul: bool | None = None) -> list[tuple[Any, ...]]:
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
        return rows.stage(records, nul=self._reader.saw_nul if nul is None else nul)


async def read_into_staging(
    conn: Connection, job: Job, progress: Progress, collector: ErrorCollector
) -> ReadResult:
    """Read the whole file into the staging table: good rows, and the keys of bad ones.

    A file that turns out not to be UTF-8 (and names no encoding) is an older program's: the
    whole file decides which encoding, and the read starts over from the first byte in it.
    """
    encoding = job.claim.encoding
    guess: list[ImportWarning] = []
    while True:
        rows = _Rows(job, collector, _staged_records(job))
        source = _FileRows(job.chunks, rows, progress, encoding, job.claim.sheet)
        try:
            async with conn.transaction():  # a savepoint: a restart leaves no row behind
                await stage.copy_rows(conn, job.statements.staging, source.records())
        except Utf8FallbackNeeded:
            evidence = encodings.Evidence()
            async for chunk in job.chunks():
                evidence.feed(chunk)
            chosen, readings = encodings.decide(evidence)
            if chosen is None:
                return ReadResult(0, [encodings.unclear(evidence, readings)])
            collector.clear()
            encoding = chosen
            guess = [encodings.guessed(evidence, chosen)]
            continue
        result = source.result
        result.warnings[:0] = guess
        return result


def _strictly(job: Job, shape: Shape, progress: Progress) -> _FileRows:
    """A pass that refuses at the first problem: a bad row, or a file that is not UTF-8."""
    rows = _Rows(job, ErrorCollector(0), shape, strict=True)
    return _FileRows(job.chunks, rows, progress, job.claim.encoding, job.claim.sheet)


async def read_into_table(
    conn: Connection, job: Job, target: DirectCopy, progress: Progress
) -> ReadResult:
    """Copy a clean file's rows straight into their table, in the caller's transaction;
    ``Refused`` at the first row with a bad cell, a file-level error or a file that is not
    UTF-8. The table's own constraints refuse the rest (``IntegrityConstraintViolationError``).
    """
    source = _strictly(job, target.record, progress)

    async def records() -> AsyncIterator[tuple[Any, ...]]:
        try:
            async for record in source.records():
                yield record
        except Utf8FallbackNeeded:
            raise Refused from None
        if source.result.file_errors:  # a file-level error, or a file with no rows
            raise Refused

    await conn.copy_records_to_table(target.table, records=records(), columns=target.columns)
    return source.result


class BatchReading:
    """A clean file's staged records, ``size`` at a time; ``Refused`` at the first problem.
    ``result`` tells what the whole pass found, once the batches are all read."""

    def __init__(self, job: Job, progress: Progress, size: int) -> None:
        self._source = _strictly(job, _staged_records(job), progress)
        self._size = size

    @property
    def result(self) -> ReadResult:
        return self._source.result

    async def __aiter__(self) -> AsyncIterator[list[tuple[Any, ...]]]:
        batch: list[tuple[Any, ...]] = []
        try:
            async for record in self._source.records():
                batch.append(record)
                if len(batch) >= self._size:
                    yield batch
                    batch = []
        except Utf8FallbackNeeded:
            raise Refused from None
        if self.result.file_errors:
            raise Refused
        if batch:
            yield batch
