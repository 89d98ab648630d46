"""What every workbook reader shares: its sheet list, the choice of a sheet, its rows, how a
cell's number or moment reads, and how a damaged archive is told."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar
from xml.etree import ElementTree
from xml.parsers import expat

from api.imports.file_format import FileFormat
from api.reading.records import NotTextError, Record

SAVE_AGAIN = "open it in a spreadsheet program and save it again as .xlsx"
# The last column of Excel and of LibreOffice (XFD): no sheet has a cell past it.
MAX_COLUMNS = 16_384
# What a damaged or hand-made archive raises while a streaming reader reads it.
DAMAGED = (
    expat.ExpatError,
    ElementTree.ParseError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    OverflowError,
    IndexError,
    KeyError,
)

T = TypeVar("T")


def general_number(number: float) -> str:
    """As a spreadsheet shows a number in a General cell: 15 significant digits, no ".0"."""
    return format(number, ".15g") if number else "0"


def moment_text(moment: datetime) -> str:
    """A date-time at midnight is a date; one with a time of day reads as such, to the second."""
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.isoformat(" ", "seconds")


def damaged_after(row: int, exc: Exception) -> NotTextError:
    """The refusal of a sheet that breaks off after its first rows (nothing is stored)."""
    where = f"after row {row}" if row else "before its first row"
    return NotTextError(f"the workbook's sheet cannot be read {where} ({exc}); {SAVE_AGAIN}")


def opened(path: Path, open_sheet: Callable[[zipfile.ZipFile], T]) -> T:
    """``open_sheet`` on the workbook's archive, which it keeps open for its rows; the archive
    closed again, and ``NotTextError`` for a damaged one, when it fails."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotTextError(f"the workbook cannot be read ({exc}); {SAVE_AGAIN}") from None
    try:
        return open_sheet(archive)
    except DAMAGED as exc:
        archive.close()
        raise NotTextError(f"the workbook cannot be read ({exc}); {SAVE_AGAIN}") from None
    except BaseException:
        archive.close()
        raise


@dataclass(frozen=True, slots=True)
class SheetEntry:
    """One sheet as the workbook lists it."""

    name: str
    visible: bool
    worksheet: bool = True  # not a chart sheet or a macro sheet


class SheetNotFound(Exception):
    """The workbook has no such sheet (``sheet_not_found``); ``str(exc)`` names its sheets.
    ``format`` is the workbook's, once known."""

    format: FileFormat | None = None


class SheetRows(Protocol):
    """A sheet's records (empty rows left out), as many rows at a time as asked for."""

    @property
    def done(self) -> bool:
        """Whether the sheet has no more rows."""

    @property
    def line(self) -> int:
        """The row number of the last row read."""

    @property
    def last_row(self) -> int:
        """The sheet's last row number as the workbook says it (0 when it does not say)."""

    def take(self, count: int) -> list[Record]:
        """The records among the next ``count`` or so rows."""

    def close(self) -> None:
        """Let go of the file and of whatever the reader holds."""


def _shown(entry: SheetEntry) -> str:
    return f'"{entry.name}"' + ("" if entry.visible else " (hidden)")


def pick_sheet(sheets: list[SheetEntry], wanted: str | None) -> str:
    """The sheet named ``wanted`` (exactly, else ignoring letter case and surrounding spaces),
    or the first visible worksheet; ``SheetNotFound`` naming the workbook's sheets."""
    if wanted is None:
        for entry in sheets:
            if entry.visible and entry.worksheet:
                return entry.name
        found = None
    else:
        found = next((s.name for s in sheets if s.name == wanted), None) or next(
            (s.name for s in sheets if s.name.strip().casefold() == wanted.strip().casefold()),
            None,
        )
    if found is not None:
        return found
    listed = ", ".join(_shown(entry) for entry in sheets) or "none"
    if wanted is None:
        raise SheetNotFound(
            f"The workbook has no visible sheet; name the sheet to read. Its sheets: {listed}."
        )
    raise SheetNotFound(f'The workbook has no sheet "{wanted}". Its sheets: {listed}.')
