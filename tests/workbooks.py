"""Workbooks made in the tests with real cell types: XlsxWriter writes .xlsx, and LibreOffice
(``soffice``, when installed) converts it to .xls and .ods."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

Cell = str | int | float | bool | date | datetime | None
# Writes one worksheet's cells: (worksheet, workbook) -> None.
Filler = Callable[[Any, Any], None]


def xlsx(sheets: Sequence[tuple[str, Filler]], *, hidden: Sequence[str] = ()) -> bytes:
    """A workbook with these sheets, in this order; ``hidden`` ones hidden."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    made = {name: book.add_worksheet(name) for name, _ in sheets}
    for name, fill in sheets:
        fill(made[name], book)
    visible = [name for name, _ in sheets if name not in hidden]
    if visible:
        made[visible[0]].activate()  # a hidden sheet cannot be the active one
    for name in hidden:
        made[name].hide()
    book.close()
    return out.getvalue()


def rows(values: Sequence[Sequence[Cell]], *, first_row: int = 0) -> Filler:
    """Rows of typed cells from ``first_row`` (0-based) on: dates with a date format, date-times
    with a date-time one, None left empty."""

    def fill(sheet: Any, book: Any) -> None:
        day = book.add_format({"num_format": "mm/dd/yyyy"})
        moment = book.add_format({"num_format": "mm/dd/yyyy hh:mm"})
        for r, row in enumerate(values, start=first_row):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, value)

    return fill


def converted(content: bytes, to: str) -> bytes:
    """An .xlsx converted by LibreOffice to ``to`` (``xls`` or ``ods``); the test is skipped
    when LibreOffice is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "book.xlsx"
        source.write_bytes(content)
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation=file://{folder}/profile",
                "--convert-to",
                to,
                "--outdir",
                folder,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (Path(folder) / f"book.{to}").read_bytes()
