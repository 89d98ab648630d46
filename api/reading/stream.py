"""A stored file's records as the worker reads them, for code that is not the worker's hot
path: CSV text in the encoding given, or a workbook's sheet, as ``(line, cells)`` with the same
line numbers the errors name. The parsing runs in a thread, so a request serving a large file
does not hold up the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from api.reading import workbooks
from api.reading.chunks import Chunks
from api.reading.records import Record, RecordReader, WorkbookFound

# Workbook rows taken at a time (the sheet readers give them on demand).
SHEET_ROWS = 4096


async def file_records(
    chunks: Chunks, *, encoding: str | None, sheet: str | None
) -> AsyncGenerator[Record, None]:
    """Every record of the stored file, the header first.

    ``encoding`` is the codec the worker read a CSV file with (the import's ``file.encoding``):
    without it a file that proves not to be UTF-8 raises ``Utf8FallbackNeeded`` partway, since
    only a pass over the whole file settles its encoding. ``sheet`` names a workbook's sheet
    (None: the first visible). ``NotTextError``, ``CsvSyntaxError`` and ``SheetNotFound`` as the
    worker meets them.
    """
    reader = RecordReader(encoding=encoding)
    container = None
    try:
        async for chunk in chunks():
            for record in await asyncio.to_thread(reader.feed, chunk):
                yield record
        for record in reader.finish():
            yield record
    except WorkbookFound as found:  # raised before any record
        container = found.container
    if container is None:
        return
    async with workbooks.opened(chunks, container, sheet) as opened:
        while not opened.done:
            for record in await asyncio.to_thread(opened.take, SHEET_ROWS):
                yield record
