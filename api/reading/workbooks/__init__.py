"""A stored workbook (.xlsx, .xlsm, .xls, .ods) read as records, like ``RecordReader`` reads text.

The file is spooled to local disk (a ZIP archive needs seeking), its kind decided by what its
container holds, the sheet picked (the import's ``sheet``, or the first visible one), and its
rows given as ``(line, cells)``: ``line`` the sheet's row number, cells as text from column A
(docs/format.md, "Workbooks"). Empty rows are skipped; trailing empty cells come blank, which
the header and the rows ignore. An .xlsx or .ods is streamed (``xlsx``, ``ods``); an .xls,
at most 65,536 rows, is loaded whole by python-calamine (``calamine``).
"""

from __future__ import annotations

import asyncio
import contextlib
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

from api.imports.file_format import FileFormat
from api.reading.chunks import Chunks
from api.reading.records import NotTextError, Record
from api.reading.spool import spooled
from api.reading.workbooks import calamine, ods, xlsx
from api.reading.workbooks.sheets import SAVE_AGAIN, SheetNotFound, SheetRows

__all__ = ["Sheet", "SheetNotFound", "opened"]

_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# What else a ZIP archive may be, by the first entry name that tells.
_OTHER_ZIPS: tuple[tuple[str, str], ...] = (
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb), which is not read: save it as .xlsx"),
    ("word/", "a Word document (.docx), not a spreadsheet"),
    ("ppt/", "a PowerPoint presentation (.pptx), not a spreadsheet"),
)


def _zip_format(path: Path) -> FileFormat:
    """xlsx or ods by what the archive holds; ``NotTextError`` naming anything else."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names:
                return FileFormat.XLSX
            # The mimetype entry names the document's kind in a few bytes; a large one is not.
            if (
                "mimetype" in names
                and archive.getinfo("mimetype").file_size < 100
                and archive.read("mimetype").strip() == _ODS_MIMETYPE
            ):
                return FileFormat.ODS
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotTextError(f"the file is a damaged ZIP archive ({exc}); {SAVE_AGAIN}") from None
    what = next(
        (what for prefix, what in _OTHER_ZIPS if any(n.startswith(prefix) for n in names)),
        "a ZIP archive, not CSV text or a workbook",
    )
    raise NotTextError(f"the file is {what}")


class Sheet:
    """The sheet being read: its workbook's format, its name and its rows."""

    def __init__(self, format: FileFormat, name: str, rows: SheetRows, size_bytes: int) -> None:
        self.format = format
        self.name = name
        self.size_bytes = size_bytes
        self._rows = rows

    @property
    def done(self) -> bool:
        return self._rows.done

    @property
    def bytes_read(self) -> int:
        """How far through the sheet, as a share of the file's bytes (the percent shown)."""
        rows = self._rows
        if rows.done:
            return self.size_bytes
        return min(self.size_bytes, self.size_bytes * rows.line // max(1, rows.last_row))

    def take(self, count: int) -> list[Record]:
        """The records among the next ``count`` or so rows (empty rows left out)."""
        return self._rows.take(count)

    def close(self) -> None:
        """Let go of the file and of the reader's memory (a loaded sheet is most of it)."""
        self._rows.close()


def _load(path: Path, container: str, wanted: str | None) -> Sheet:
    kind = FileFormat.XLS if container == "ole2" else _zip_format(path)
    size = path.stat().st_size
    try:
        if kind is FileFormat.XLSX:
            name, rows = xlsx.load(path, wanted)
            return Sheet(kind, name, rows, size)
        if kind is FileFormat.ODS:
            name, streamed = ods.load(path, wanted)
            return Sheet(kind, name, streamed, size)
        # calamine goes by the file's extension.
        named = path.rename(path.with_name(f"workbook.{kind.value}"))
        name, loaded = calamine.load(named, kind, wanted)
        return Sheet(kind, name, loaded, size)
    except SheetNotFound as exc:
        exc.format = kind
        raise


@contextlib.asynccontextmanager
async def opened(chunks: Chunks, container: str, wanted: str | None) -> AsyncIterator[Sheet]:
    """The sheet to read of the stored workbook; ``NotTextError`` when it is no readable
    workbook, ``SheetNotFound`` when it lacks the sheet. The spooled copy is gone afterwards."""
    async with spooled(chunks) as path:
        # Opening takes seconds for a large workbook (its shared strings, or calamine's whole
        # sheet): off the event loop, so that the heartbeat keeps beating.
        sheet = await asyncio.to_thread(_load, path, container, wanted)
        try:
            yield sheet
        finally:
            sheet.close()
