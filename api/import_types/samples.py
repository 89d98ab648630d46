"""Sample files: the header of a type and example rows, as a spreadsheet would save them."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import xlsxwriter

from api.import_types.base import ImportType

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sample_csv(import_type: ImportType) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in import_type.columns])
    writer.writerows(import_type.sample_rows)
    return out.getvalue()


def sample_xlsx(import_type: ImportType) -> bytes:
    """The same rows as a workbook, typed as a spreadsheet user would type them: dates as date
    cells, numbers as number cells, words as text, blank cells left empty."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Sample")
    bold = book.add_format({"bold": True})
    # ISO shows the same day to every reader, whatever the order of their own dates.
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    names = [column.name for column in import_type.columns]
    sheet.write_row(0, 0, names, bold)
    for r, row in enumerate(import_type.sample_rows, start=1):
        for c, (name, cell) in enumerate(zip(names, row, strict=True)):
            if not cell:
                continue
            if name in import_type.date_columns:
                sheet.write_datetime(r, c, datetime.strptime(cell, "%m/%d/%Y"), day)
            elif cell.isdigit():
                sheet.write_number(r, c, int(cell))
            else:
                sheet.write_string(r, c, cell)
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(names, *import_type.sample_rows, strict=True)
    ]
    for c, width in enumerate(widths):
        sheet.set_column(c, c, max(12, width + 2))
    book.close()
    return out.getvalue()


def sample_filename(import_type: ImportType, extension: str = "csv") -> str:
    return f"{import_type.key.replace('.', '-')}-sample.{extension}"
