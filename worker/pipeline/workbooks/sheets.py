"""What every workbook reader shares: its sheet list, the choice of a sheet, and its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from api.imports.file_format import FileFormat
from worker.pipeline.records import Record

SAVE_AGAIN = "open it in a spreadsheet program and save it again as .xlsx"


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
