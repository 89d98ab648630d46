"""failed-rows.csv: the header and the failed rows of an import's file, each with its errors in a
first column ``error``, to fix in a spreadsheet and upload again (an upload ignores a column
headed ``error``).

The cells are the file's own, as the worker read them; the CSV is UTF-8 with a byte-order mark
(so that Excel shows accents), and a cell a spreadsheet would run as a formula is escaped as in
errors.csv. The rows are written to a local temporary file while the request reads the stored
file, and sent from there: a slow client holds no database connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from api.imports.errors_csv import safe_cell
from api.imports.models import ImportRowError
from api.reading.header import ERROR_COLUMN
from api.reading.records import Record

BOM = "\ufeff"
SEE_ERRORS = "This row has errors beyond the ones kept in full; see the import's errors."
# Rows written to the temporary file at a time, and its size kept in memory before disk.
ROWS_PER_WRITE = 4096
IN_MEMORY_BYTES = 1024 * 1024
SEND_BYTES = 64 * 1024

FailedLines = Callable[[int], Awaitable[Sequence[int]]]
"""The failed lines after a line, in order, a page at a time (empty at the end)."""


def error_text(errors: Sequence[ImportRowError]) -> str:
    """A row's kept errors in one cell: "date_opened: ...; about: ..."."""
    return "; ".join(f"{e.column}: {e.message}" if e.column else e.message for e in errors)


async def _failed(lines: FailedLines) -> AsyncIterator[int]:
    after = 0
    while page := await lines(after):
        for line in page:
            yield line
        after = page[-1]


async def _rows(
    records: AsyncIterator[Record], lines: FailedLines, messages: Mapping[int, str]
) -> AsyncIterator[list[str]]:
    """The header, then each failed row: its error text and its cells (to the header's width)."""
    failed = _failed(lines)
    wanted = await anext(failed, None)
    width = 0
    async for line, cells in records:
        if not width:  # the header
            width = len(cells)
            yield [ERROR_COLUMN, *cells]
            continue
        while wanted is not None and wanted < line:  # a line that starts no record
            wanted = await anext(failed, None)
        if wanted is None:
            return
        if wanted == line:
            yield [messages.get(line, SEE_ERRORS), *cells, *[""] * (width - len(cells))]


@dataclass
class Download:
    filename: str
    media_type: str
    _file: IO[bytes]

    async def body(self) -> AsyncIterator[bytes]:
        """The file from its start, then closed."""
        try:
            await asyncio.to_thread(self._file.seek, 0)
            while piece := await asyncio.to_thread(self._file.read, SEND_BYTES):
                yield piece
        finally:
            self._file.close()


async def failed_rows_csv(
    filename: str,
    records: AsyncGenerator[Record, None],
    lines: FailedLines,
    messages: Mapping[int, str],
) -> Download:
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - Download closes it
    try:
        text = io.StringIO()
        text.write(BOM)
        writer = csv.writer(text, lineterminator="\r\n")
        written = 0
        # Closed when the failed rows end before the file: a workbook's spooled copy goes.
        async with contextlib.aclosing(records):
            async for row in _rows(records, lines, messages):
                writer.writerow([safe_cell(cell) for cell in row])
                written += 1
                if written % ROWS_PER_WRITE == 0:
                    await asyncio.to_thread(out.write, text.getvalue().encode())
                    text.seek(0)
                    text.truncate()
        await asyncio.to_thread(out.write, text.getvalue().encode())
    except BaseException:
        out.close()
        raise
    return Download(filename, "text/csv; charset=utf-8", out)
