"""The streamed .xlsx reader, cell by cell, on workbooks XlsxWriter writes and on parts written
by hand for what Excel's own writer does not emit (no database needed)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from api.imports.file_format import FileFormat
from api.reading.records import NotTextError, Record
from api.reading.workbooks import calamine
from api.reading.workbooks import xlsx as streamed
from api.reading.workbooks.sheets import SheetNotFound
from tests.workbooks import converted, xlsx


def _read(
    content: bytes, tmp_path: Path, sheet: str | None = None, *, step: int = 3
) -> list[Record]:
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    _, rows = streamed.load(path, sheet)
    out: list[Record] = []
    try:
        while not rows.done:
            out += rows.take(step)
    finally:
        rows.close()
    return out


def _typed(sheet: Any, book: Any) -> None:
    formats = {
        code: book.add_format({"num_format": code})
        for code in ("dd/mm/yy", "d mmm yyyy", "hh:mm", "yyyy-mm-dd hh:mm:ss", '"day "0', "0.00")
    }
    sheet.write_datetime(0, 0, datetime(2024, 3, 7), formats["dd/mm/yy"])
    sheet.write_datetime(0, 1, datetime(2024, 3, 7), formats["d mmm yyyy"])
    sheet.write_datetime(0, 2, datetime(1900, 2, 28), formats["d mmm yyyy"])  # leap-year bug
    sheet.write_datetime(1, 0, time(13, 5), formats["hh:mm"])
    sheet.write_datetime(1, 1, datetime(2024, 3, 7, 13, 5, 9), formats["yyyy-mm-dd hh:mm:ss"])
    sheet.write_number(2, 0, 7, formats['"day "0'])  # a "d" in quotes shows no date
    sheet.write_number(2, 1, 1.5, formats["0.00"])
    sheet.write_number(2, 2, 0.1 + 0.2)
    sheet.write_boolean(3, 0, True)
    sheet.write_boolean(3, 1, False)
    sheet.write_formula(3, 2, "=1/0", None, "#DIV/0!")
    sheet.write_formula(3, 3, '="a"&"b"', None, "ab")
    bold = book.add_format({"bold": True})
    sheet.write_rich_string(4, 0, "plain ", bold, "bold", " tail")
    sheet.write_string(5, 2, "from column C")  # row 6: cells from column A
    sheet.write_blank(9, 9, None, bold)  # a formatted empty cell: no row


def test_cells_read_as_a_csv_export_would_write_them(tmp_path: Path) -> None:
    assert _read(xlsx([("S", _typed)]), tmp_path) == [
        (1, ["2024-03-07", "2024-03-07", "1900-02-28"]),
        (2, ["13:05:00", "2024-03-07 13:05:09"]),
        (3, ["7", "1.5", "0.3"]),
        (4, ["TRUE", "FALSE", "", "ab"]),  # an error cell reads blank
        (5, ["plain bold tail"]),
        (6, ["", "", "from column C"]),
    ]


def test_dates_of_a_1904_workbook(tmp_path: Path) -> None:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "date_1904": True})
    book.add_worksheet("S").write_datetime(
        0, 0, datetime(2024, 3, 7), book.add_format({"num_format": "m/d/yyyy"})
    )
    book.close()
    assert _read(out.getvalue(), tmp_path) == [(1, ["2024-03-07"])]


def _sheet_part(rows: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def _hand_made(sheet: bytes, strings: bytes | None = None) -> bytes:
    """A minimal workbook as another program might write it: no styles, no dimension."""
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts: dict[str, str | bytes] = {
        "xl/workbook.xml": f'<workbook {main} xmlns:r="{rel}"><sheets>'
        '<sheet name="Chart" sheetId="1" r:id="rId2"/>'
        '<sheet name="Data" sheetId="2" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="/xl/worksheets/data.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/chartsheet" Target="chartsheets/c.xml"/>'
        "</Relationships>",
        "xl/worksheets/data.xml": sheet,
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_parts_excel_does_not_write(tmp_path: Path) -> None:
    strings = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<si><t>\xe6\x9d\xb1\xe4\xba\xac</t><rPh sb="0" eb="2"><t>\xe3\x83\x88</t></rPh></si>'
        b'<si><r><t xml:space="preserve">two </t></r><r><t>runs</t></r></si></sst>'
    )
    sheet = _sheet_part(
        # rows and cells without their numbers; an inline string; an ISO date cell; a shared
        # string with a phonetic reading (not shown); a rich one; a line break kept.
        '<row><c t="inlineStr"><is><t>inline</t></is></c>'
        '<c t="d"><v>2024-03-07T00:00:00</v></c></row>'
        '<row r="4"><c r="B4" t="s"><v>0</v></c><c t="s"><v>1</v></c>'
        '<c t="d"><v>2024-03-07T10:30:00</v></c><c t="str"><f>A1</f><v>x&#10;y</v></c></row>'
    )
    assert _read(_hand_made(sheet, strings), tmp_path) == [
        (1, ["inline", "2024-03-07"]),
        (4, ["", "東京", "two runs", "2024-03-07 10:30:00", "x\ny"]),
    ]


def test_the_chart_sheet_is_passed_over_and_a_named_sheet_found(tmp_path: Path) -> None:
    content = _hand_made(_sheet_part('<row r="2"><c r="A2"><v>5</v></c></row>'))
    assert _read(content, tmp_path) == [(2, ["5"])]
    assert _read(content, tmp_path, " data") == [(2, ["5"])]
    with pytest.raises(SheetNotFound, match=r'Its sheets: "Chart", "Data"\.'):
        _read(content, tmp_path, "Q4")


def test_a_damaged_sheet_names_the_last_row_read(tmp_path: Path) -> None:
    good = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 3001))
    content = _hand_made(_sheet_part(good + '<row r="3001"><c><v>1</c></row>'))
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    _, rows = streamed.load(path, None)
    assert rows.take(2000)[0] == (1, ["1"])  # rows come before the damage is reached
    with pytest.raises(NotTextError, match=r"cannot be read after row 3001 \(mismatched tag"):
        rows.take(2000)
    rows.close()


def test_a_shared_string_the_workbook_lacks_is_a_damaged_workbook(tmp_path: Path) -> None:
    content = _hand_made(_sheet_part('<row r="1"><c r="A1" t="s"><v>3</v></c></row>'))
    with pytest.raises(NotTextError, match=r"after row 1 \(.*index"):
        _read(content, tmp_path)


def test_a_cell_past_the_last_column_is_a_damaged_sheet(tmp_path: Path) -> None:
    # Column ZZZZZZZ would be billions of empty cells before it: refused, nothing allocated.
    sheet = '<row r="1"><c r="A1" t="inlineStr"><is><t>tag_id</t></is></c>'
    sheet += '<c r="ZZZZZZZ1" t="inlineStr"><is><t>x</t></is></c></row>'
    with pytest.raises(NotTextError, match=r"after row 1 \(a cell at ZZZZZZZ1, past the last"):
        _read(_hand_made(_sheet_part(sheet)), tmp_path)
    last = '<row r="1"><c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>'
    (record,) = _read(_hand_made(_sheet_part(last)), tmp_path)
    assert (len(record[1]), record[1][-1]) == (16_384, "x")  # Excel's last column is a column


def _trimmed(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


@pytest.mark.parametrize("to", ["ods", "xls"])
def test_other_formats_give_the_same_cells_from_column_a(to: str, tmp_path: Path) -> None:
    def sheet(ws: Any, book: Any) -> None:
        ws.write_string(2, 2, "C3")
        ws.write_number(3, 3, 4)
        ws.write_datetime(3, 4, datetime(2024, 3, 7), book.add_format({"num_format": "d/m/yy"}))

    content = xlsx([("S", sheet)])
    path = tmp_path / f"book.{to}"
    path.write_bytes(converted(content, to))
    kind = FileFormat(to)
    _, loaded = calamine.load(path, kind, None)
    # calamine gives every row as wide as the sheet; trailing blank cells are ignored.
    other = [(line, _trimmed(cells)) for line, cells in loaded.take(100)]
    assert (
        other
        == _read(content, tmp_path)
        == [
            (3, ["", "", "C3"]),
            (4, ["", "", "", "4", "2024-03-07"]),
        ]
    )
