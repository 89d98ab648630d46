"""An .xls sheet read with python-calamine, which loads the whole sheet before its first row.
An .xls holds at most 65,536 rows, so its memory is bounded by the format. (It reads .ods as
well: the tests compare the streamed .ods reader with it.)"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from api.imports.file_format import FileFormat
from api.reading.records import NotTextError, Record
from api.reading.workbooks.sheets import SAVE_AGAIN, SheetEntry, general_number, pick_sheet


def cell_text(value: object) -> str:
    """A cell as the text a CSV export of it would hold (docs/format.md, "Cell values")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return general_number(value)
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


class LoadedRows:
    """A loaded sheet's rows; each row's cells from column A, like the sheet shows them."""

    def __init__(self, rows: Iterator[Sequence[object]], last_row: int, first_column: int) -> None:
        self._rows = rows
        self._pad = [""] * first_column
        self.last_row = last_row
        self.line = 0
        self.done = last_row == 0

    def take(self, count: int) -> list[Record]:
        out: list[Record] = []
        line = self.line
        read = 0
        pad = self._pad
        for row in itertools.islice(self._rows, count):
            read += 1
            line += 1
            cells = [v if type(v) is str else cell_text(v) for v in row]
            joined = "".join(cells)
            if joined and not joined.isspace():
                out.append((line, pad + cells if pad else cells))
        self.line = line
        if read < count:
            self.done = True
        return out

    def close(self) -> None:
        # The loaded sheet is most of the worker's memory while it reads: let it go now.
        self._rows = iter(())
        self.done = True


def _workbook(path: Path, kind: FileFormat) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(path)
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
        raise NotTextError(f"the workbook cannot be read ({exc}); {SAVE_AGAIN}") from None


def load(path: Path, kind: FileFormat, wanted: str | None) -> tuple[str, LoadedRows]:
    """The chosen sheet's name and rows; ``SheetNotFound`` when the workbook lacks it."""
    workbook = _workbook(path, kind)
    try:
        sheets = [
            SheetEntry(
                name=meta.name,
                visible=meta.visible == SheetVisibleEnum.Visible,
                worksheet=meta.typ == SheetTypeEnum.WorkSheet,
            )
            for meta in workbook.sheets_metadata
        ]
        name = pick_sheet(sheets, wanted)
        loaded = workbook.get_sheet_by_name(name)
    except CalamineError as exc:
        raise NotTextError(f"the workbook cannot be read ({exc}); {SAVE_AGAIN}") from None
    finally:
        # The loaded sheet stands alone: the workbook's shared strings can go at once.
        workbook.close()
    start, end = loaded.start, loaded.end
    if start is None or end is None:  # an empty sheet (iter_rows needs a first cell)
        return name, LoadedRows(iter(()), 0, 0)
    # Rows from the sheet's first row on (those above its first cell come empty), and cells
    # from its first filled column: padded back to column A.
    return name, LoadedRows(loaded.iter_rows(), end[0] + 1, start[1])
