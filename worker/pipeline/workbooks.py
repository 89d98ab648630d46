"""A stored workbook (.xlsx, .xlsm, .xls, .ods) read as records, like ``RecordReader`` reads text.

The file is spooled to local disk (the library needs a seekable file), its kind decided by what
its container holds, the sheet picked (the import's ``sheet``, or the first visible one), and
its rows given as ``(line, cells)``: ``line`` the sheet's row number, cells as text
(docs/format.md, "Workbooks"). Empty rows are skipped; trailing empty columns come as blank
cells, which the header and the rows ignore.

python-calamine loads the whole sheet into memory before the first row: the measurements
behind that choice are in docs/performance.md ("Choices measured").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import zipfile
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetMetadata,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from api.imports.file_format import FileFormat
from worker.pipeline.job import Chunks
from worker.pipeline.records import NotTextError, Record
from worker.pipeline.spool import spooled

_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_SAVE_AGAIN = "open it in a spreadsheet program and save it again as .xlsx"
# What else a ZIP archive may be, by the first entry name that tells.
_OTHER_ZIPS: tuple[tuple[str, str], ...] = (
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb), which is not read: save it as .xlsx"),
    ("word/", "a Word document (.docx), not a spreadsheet"),
    ("ppt/", "a PowerPoint presentation (.pptx), not a spreadsheet"),
)


class SheetNotFound(Exception):
    """The workbook has no such sheet (``sheet_not_found``); ``str(exc)`` names its sheets.
    ``format`` is the workbook's, once known."""

    format: FileFormat | None = None


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
        raise NotTextError(f"the file is a damaged ZIP archive ({exc}); {_SAVE_AGAIN}") from None
    what = next(
        (what for prefix, what in _OTHER_ZIPS if any(n.startswith(prefix) for n in names)),
        "a ZIP archive, not CSV text or a workbook",
    )
    raise NotTextError(f"the file is {what}")


def _open(path: Path, container: str) -> tuple[FileFormat, CalamineWorkbook]:
    """The workbook in the spooled file (renamed to the extension its reader goes by)."""
    kind = FileFormat.XLS if container == "ole2" else _zip_format(path)
    named = path.rename(path.with_name(f"workbook.{kind.value}"))
    try:
        return kind, CalamineWorkbook.from_path(named)
    except PasswordError:
        raise NotTextError(
            "the workbook is protected by a password: save a copy without one and upload that"
        ) from None
    except CalamineError as exc:
        if kind is FileFormat.XLS:
            raise NotTextError(
                "the file is an Office 97-2003 file that cannot be read as an Excel workbook (a "
                f"Word document, or a workbook protected by a password?): {exc}"
            ) from None
        raise NotTextError(f"the workbook cannot be read ({exc}); {_SAVE_AGAIN}") from None


def _shown(meta: SheetMetadata) -> str:
    return f'"{meta.name}"' + ("" if meta.visible == SheetVisibleEnum.Visible else " (hidden)")


def pick_sheet(sheets: list[SheetMetadata], wanted: str | None) -> str:
    """The sheet named ``wanted`` (exactly, else ignoring letter case and surrounding spaces),
    or the first visible worksheet; ``SheetNotFound`` naming the workbook's sheets."""
    if wanted is None:
        for meta in sheets:
            if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet:
                return meta.name
        found = None
    else:
        found = next((m.name for m in sheets if m.name == wanted), None) or next(
            (m.name for m in sheets if m.name.strip().casefold() == wanted.strip().casefold()),
            None,
        )
    if found is not None:
        return found
    listed = ", ".join(_shown(meta) for meta in sheets) or "none"
    if wanted is None:
        raise SheetNotFound(
            f"The workbook has no visible sheet; name the sheet to read. Its sheets: {listed}."
        )
    raise SheetNotFound(f'The workbook has no sheet "{wanted}". Its sheets: {listed}.')


def _number(value: float) -> str:
    # As a spreadsheet shows it in a General cell: 15 significant digits, no trailing ".0".
    return format(value, ".15g") if value else "0"


def cell_text(value: object) -> str:
    """A cell as the text a CSV export of it would hold (docs/format.md, "Cell values")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        # A date-time at midnight is a date; one with a time of day is not, and reads as such.
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time | timedelta):
        return str(value)
    return "" if value is None else str(value)


class Sheet:
    """One sheet's rows, a slice at a time, with how far through the sheet they are."""

    def __init__(
        self,
        format: FileFormat,
        name: str,
        rows: Iterator[Sequence[object]],
        last: int,
        size_bytes: int,
    ) -> None:
        self.format = format
        self.name = name
        self.size_bytes = size_bytes
        self.last_row = last  # the sheet's last row number with anything in it (0 when empty)
        self.line = 0  # the row number of the last row read
        self.done = last == 0
        self._rows = rows

    def take(self, count: int) -> list[Record]:
        """The records among the next ``count`` rows (empty rows left out); sets ``done`` when
        the sheet has no more."""
        out: list[Record] = []
        line = self.line
        read = 0
        for row in itertools.islice(self._rows, count):
            read += 1
            line += 1
            cells = [v if type(v) is str else cell_text(v) for v in row]
            joined = "".join(cells)
            if joined and not joined.isspace():
                out.append((line, cells))
        self.line = line
        if read < count:
            self.done = True
        return out

    def release(self) -> None:
        """Let go of the loaded sheet, whose memory is most of the worker's while it reads."""
        self._rows = iter(())
        self.done = True


def _load(path: Path, container: str, wanted: str | None) -> Sheet:
    kind, workbook = _open(path, container)
    try:
        name = pick_sheet(workbook.sheets_metadata, wanted)
        loaded = workbook.get_sheet_by_name(name)
    except SheetNotFound as exc:
        exc.format = kind
        raise
    except CalamineError as exc:
        raise NotTextError(f"the workbook cannot be read ({exc}); {_SAVE_AGAIN}") from None
    finally:
        # The loaded sheet stands alone: the workbook's shared strings can go at once.
        workbook.close()
    size = path.with_name(f"workbook.{kind.value}").stat().st_size
    end = loaded.end
    if loaded.start is None or end is None:  # an empty sheet (iter_rows needs a first cell)
        return Sheet(kind, name, iter(()), 0, size)
    # Rows from the sheet's first row on: those above its first cell come as empty rows.
    return Sheet(kind, name, loaded.iter_rows(), end[0] + 1, size)


@contextlib.asynccontextmanager
async def opened(chunks: Chunks, container: str, wanted: str | None) -> AsyncIterator[Sheet]:
    """The sheet to read of the stored workbook; ``NotTextError`` when it is no readable
    workbook, ``SheetNotFound`` when it lacks the sheet. The spooled copy is gone afterwards."""
    async with spooled(chunks) as path:
        # Loading a sheet takes seconds for a large one; calamine releases the GIL meanwhile.
        sheet = await asyncio.to_thread(_load, path, container, wanted)
        try:
            yield sheet
        finally:
            sheet.release()
