"""The streamed .ods reader, cell by cell: on workbooks XlsxWriter writes and LibreOffice
converts, read the same as the streamed .xlsx reader and python-calamine read them, and on
content.xml written by hand for what a conversion does not emit (no database needed)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest

from api.imports.file_format import FileFormat
from api.reading.records import NotTextError, Record
from api.reading.workbooks import calamine, ods
from api.reading.workbooks import xlsx as streamed_xlsx
from api.reading.workbooks.sheets import SheetNotFound
from tests.workbooks import converted, rows, xlsx


def _read(
    content: bytes, tmp_path: Path, sheet: str | None = None, *, step: int = 3
) -> tuple[str, list[Record]]:
    path = tmp_path / "book.ods"
    path.write_bytes(content)
    name, sheet_rows = ods.load(path, sheet)
    out: list[Record] = []
    try:
        while not sheet_rows.done:
            out += sheet_rows.take(step)
    finally:
        sheet_rows.close()
    return name, out


def _trimmed(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


def _calamine(content: bytes, tmp_path: Path, sheet: str | None = None) -> tuple[str, list[Record]]:
    path = tmp_path / "calamine.ods"
    path.write_bytes(content)
    name, loaded = calamine.load(path, FileFormat.ODS, sheet)
    # calamine gives every row as wide as the sheet; trailing blank cells are ignored.
    return name, [(line, _trimmed(cells)) for line, cells in loaded.take(10_000_000)]


def _xlsx(content: bytes, tmp_path: Path, sheet: str | None = None) -> tuple[str, list[Record]]:
    path = tmp_path / "book.xlsx"
    path.write_bytes(content)
    name, sheet_rows = streamed_xlsx.load(path, sheet)
    out: list[Record] = []
    while not sheet_rows.done:
        out += sheet_rows.take(100)
    sheet_rows.close()
    return name, out


def _typed(sheet: Any, book: Any) -> None:
    formats = {
        code: book.add_format({"num_format": code})
        for code in ("dd/mm/yy", "d mmm yyyy", "hh:mm", "yyyy-mm-dd hh:mm:ss", '"day "0')
    }
    sheet.write_datetime(0, 0, datetime(2024, 3, 7), formats["dd/mm/yy"])
    sheet.write_datetime(0, 1, datetime(2024, 3, 7), formats["d mmm yyyy"])
    sheet.write_datetime(1, 0, time(13, 5), formats["hh:mm"])
    sheet.write_datetime(1, 1, datetime(2024, 3, 7, 13, 5, 9), formats["yyyy-mm-dd hh:mm:ss"])
    sheet.write_number(2, 0, 7, formats['"day "0'])  # the number, not what the format shows
    sheet.write_number(2, 1, 1.5, book.add_format({"num_format": "0.00"}))
    sheet.write_number(2, 2, 0.1 + 0.2)
    sheet.write_number(2, 3, 0.25, book.add_format({"num_format": "0%"}))  # a percentage
    sheet.write_number(2, 4, 12.5, book.add_format({"num_format": "$#,##0.00"}))  # currency
    sheet.write_number(2, 5, 1e20)
    sheet.write_boolean(3, 0, True)
    sheet.write_boolean(3, 1, False)
    sheet.write_formula(3, 2, "=1/0", None, "#DIV/0!")
    sheet.write_formula(3, 3, '="a"&"b"', None, "ab")
    sheet.write_formula(3, 4, "=2*3", None, 6)
    bold = book.add_format({"bold": True})
    sheet.write_rich_string(4, 0, "plain ", bold, "bold", " tail")
    sheet.write_string(4, 1, "line 1\nline 2")
    sheet.write_string(4, 2, "  two  spaces ")
    sheet.write_string(5, 2, "from column C")  # row 6: cells from column A
    sheet.merge_range(6, 0, 6, 2, "merged")
    sheet.write_blank(9, 9, None, bold)  # a formatted empty cell: no row


_TYPED = [
    (1, ["2024-03-07", "2024-03-07"]),
    (2, ["13:05:00", "2024-03-07 13:05:09"]),
    (3, ["7", "1.5", "0.3", "0.25", "12.5", "1e+20"]),
    # LibreOffice keeps TRUE and FALSE as the formulas =TRUE() and =FALSE() worth 1 and 0;
    # an error cell reads blank; a formula reads as its stored value.
    (4, ["1", "0", "", "ab", "6"]),
    (5, ["plain bold tail", "line 1\nline 2", "  two  spaces "]),
    (6, ["", "", "from column C"]),
    (7, ["merged"]),  # the cells the merge covers are blank
]


@pytest.fixture(scope="module")
def book() -> tuple[bytes, bytes]:
    """A workbook as .xlsx and as LibreOffice converts it to .ods: a hidden first sheet,
    typed cells, one more sheet."""
    content = xlsx(
        [
            ("Hidden", rows([["secret"]])),
            ("Typed", _typed),
            ("Other", rows([["other", 5]], first_row=2)),
        ],
        hidden=["Hidden"],
    )
    return content, converted(content, "ods")


def test_cells_read_as_the_xlsx_reader_and_calamine_read_them(
    book: tuple[bytes, bytes], tmp_path: Path
) -> None:
    as_xlsx, as_ods = book
    # The first visible sheet: the hidden one is passed over.
    assert _read(as_ods, tmp_path) == ("Typed", _TYPED)
    assert _read(as_ods, tmp_path, step=1000) == ("Typed", _TYPED)
    assert _calamine(as_ods, tmp_path) == ("Typed", _TYPED)
    name, from_xlsx = _xlsx(as_xlsx, tmp_path)
    assert name == "Typed"
    assert from_xlsx == [
        (4, ["TRUE", "FALSE", "", "ab", "6"]) if line == 4 else (line, cells)
        for line, cells in _TYPED
    ]


@pytest.mark.parametrize(
    ("wanted", "name", "records"),
    [
        ("Other", "Other", [(3, ["other", "5"])]),
        (" other ", "Other", [(3, ["other", "5"])]),  # letter case and spaces aside
        ("Hidden", "Hidden", [(1, ["secret"])]),  # a hidden sheet may be named
    ],
)
def test_a_named_sheet(
    wanted: str, name: str, records: list[Record], book: tuple[bytes, bytes], tmp_path: Path
) -> None:
    as_xlsx, as_ods = book
    assert _read(as_ods, tmp_path, wanted) == (name, records)
    assert _calamine(as_ods, tmp_path, wanted) == (name, records)
    assert _xlsx(as_xlsx, tmp_path, wanted) == (name, records)


def test_a_missing_sheet_lists_the_sheets(book: tuple[bytes, bytes], tmp_path: Path) -> None:
    as_xlsx, as_ods = book
    messages = []
    for read, content in ((_read, as_ods), (_calamine, as_ods), (_xlsx, as_xlsx)):
        with pytest.raises(SheetNotFound) as raised:
            read(content, tmp_path, "Q4")
        messages.append(str(raised.value))
    assert (
        messages
        == ['The workbook has no sheet "Q4". Its sheets: "Hidden" (hidden), "Typed", "Other".'] * 3
    )


_TEXT_NAMESPACE = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)


def _content(tables: str, styles: str = "", namespaces: str = _NAMESPACES) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {namespaces}>'
        f"<office:automatic-styles>{styles}</office:automatic-styles>"
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )


def _ods(content: str | bytes | None, manifest: str = "") -> bytes:
    """An .ods archive as another program might write it: the parts a reader needs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        if content is not None:
            archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            f'manifest:1.0"><manifest:file-entry manifest:full-path="content.xml">{manifest}'
            "</manifest:file-entry></manifest:manifest>",
        )
    return out.getvalue()


def _sheet(rows_: str, name: str = "S", style: str = "") -> str:
    styled = f' table:style-name="{style}"' if style else ""
    return f'<table:table table:name="{name}"{styled}>{rows_}</table:table>'


def _text(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeated}><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def _blank(repeat: int) -> str:
    return f'<table:table-cell table:number-columns-repeated="{repeat}"/>'


def _row(cells: str, repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{cells}</table:table-row>"


def test_repeated_rows_and_cells_are_counted_not_made(tmp_path: Path) -> None:
    # As LibreOffice ends a sheet: the rest of each row, then the rest of the sheet, empty.
    content = _ods(
        _content(
            _sheet(
                _row(_blank(3), 2)
                + _row(_blank(2) + _text("x", 2) + _blank(16380), 3)
                + _row(_blank(16384), 1048000)
                + _row('<table:table-cell office:value-type="float" office:value="5"/>')
                + _row(_blank(16384))
            )
            + _sheet(_row(_text("not this sheet")), "T")
        )
    )
    expected = [
        (3, ["", "", "x", "x"]),
        (4, ["", "", "x", "x"]),
        (5, ["", "", "x", "x"]),
        (1048006, ["5"]),
    ]
    for step in (1, 2, 1000):
        assert _read(content, tmp_path, step=step) == ("S", expected)
    assert _calamine(content, tmp_path) == ("S", expected)


def test_absurd_repeats_stop_at_the_last_row_and_column(tmp_path: Path) -> None:
    content = _ods(
        _content(
            _sheet(
                # A value past column 16,384 is left out, and its row with it.
                _row(_blank(2_000_000_000) + _text("far"))
                + _row(_blank(16_383) + _text("last", 5))
                + _row(_blank(1), 1_048_567)
                # A row that holds something repeats up to row 1,048,576, not a billion times.
                + _row(_text("x"), 1_000_000_000)
            )
        )
    )
    _, records = _read(content, tmp_path, step=4)
    assert records == [(2, [""] * 16_383 + ["last"])] + [
        (row, ["x"]) for row in range(1_048_570, 1_048_577)
    ]
    assert records[-1][1] is not records[-2][1]  # each row its own cells


def test_the_text_of_a_cell(tmp_path: Path) -> None:
    cells = [
        # Spaces, a tab, a line break, two paragraphs, runs and a link, a comment left out.
        "<text:p><text:s/>a<text:s text:c='3'/>b<text:tab/>c<text:line-break/>d</text:p>",
        "<text:p>one</text:p><text:p/><text:p>three</text:p>",
        "<text:p>plain <text:span>run</text:span> <text:a xlink:href='https://x'>link</text:a>"
        "</text:p>",
        "<office:annotation><dc:date>2024-03-07</dc:date><text:p>a comment</text:p>"
        "</office:annotation><text:p>noted</text:p>",
        "<draw:frame><draw:text-box><text:p>a shape</text:p></draw:text-box></draw:frame>"
        "<text:p>shown</text:p>",
        "<text:p>&lt;&amp;&gt; &#233;t&#233; 東京</text:p>",
    ]
    row = "".join(
        f'<table:table-cell office:value-type="string">{cell}</table:table-cell>' for cell in cells
    )
    namespaces = _NAMESPACES + ' xmlns:xlink="http://www.w3.org/1999/xlink"'
    content = _ods(_content(_sheet(_row(row)), namespaces=namespaces))
    expected = [
        " a   b\tc\nd",
        "one\n\nthree",
        "plain run link",
        "noted",
        "shown",
        "<&> été 東京",
    ]
    assert _read(content, tmp_path) == ("S", [(1, expected)])
    # calamine drops tabs and line breaks, and reads a shape's text into its cell.
    _, [(_, by_calamine)] = _calamine(content, tmp_path)
    assert len(by_calamine) == len(expected)
    assert [c for n, c in enumerate(by_calamine) if n not in (0, 4)] == [
        c for n, c in enumerate(expected) if n not in (0, 4)
    ]


def test_values_by_their_type(tmp_path: Path) -> None:
    def cell(attrs: str, text: str = "shown") -> str:
        return f"<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>"

    row = "".join(
        [
            cell('office:value-type="float" office:value="1.23456789012345678"'),
            cell('office:value-type="float" office:value="-0"'),
            cell('office:value-type="percentage" office:value="0.5"'),
            cell('office:value-type="currency" office:value="12" office:currency="EUR"'),
            cell('office:value-type="date" office:date-value="2024-03-07T00:00:00"'),
            cell('office:value-type="date" office:date-value="2024-03-07T13:05:09.6"'),
            cell('office:value-type="time" office:time-value="PT08H05M00S"'),
            cell('office:value-type="time" office:time-value="PT36H00M00S"'),
            cell('office:value-type="boolean" office:boolean-value="true"'),
            cell('office:value-type="boolean" office:boolean-value="false"'),
            cell('office:value-type="string" office:string-value="attribute"'),
            cell('office:value-type="string" calcext:value-type="error"', "#N/A"),
            cell("", "no value type"),  # no value: blank, whatever its paragraphs say
            "<table:covered-table-cell/>",
            '<table:covered-table-cell office:value-type="float" office:value="7">'
            "<text:p>7</text:p></table:covered-table-cell>",
        ]
    )
    content = _ods(_content(_sheet(_row(row))))
    expected = ["1.23456789012346", "0", "0.5", "12", "2024-03-07", "2024-03-07 13:05:10"]
    expected += ["08:05:00", "36:00:00", "TRUE", "FALSE", "attribute", "", "", ""]
    # A cell a merge covers, with a value kept under it, reads as calamine and the .xlsx
    # reader read one.
    expected += ["7"]
    assert _read(content, tmp_path) == ("S", [(1, expected)])
    _, [(_, by_calamine)] = _calamine(content, tmp_path)
    # calamine keeps fractions of a second, gives a duration past a day as written, and an
    # error cell's text.
    assert len(by_calamine) == len(expected)
    assert [c for n, c in enumerate(by_calamine) if n not in (5, 7, 11)] == [
        c for n, c in enumerate(expected) if n not in (5, 7, 11)
    ]


_HIDDEN_STYLE = (
    '<style:style style:name="ta1" style:family="table">'
    '<style:table-properties table:display="false"/></style:style>'
    '<style:style style:name="ta2" style:family="table">'
    '<style:table-properties table:display="true"/></style:style>'
)


def test_the_sheet_chosen(tmp_path: Path) -> None:
    content = _ods(
        _content(
            _sheet(_row(_text("hidden")), "cases", "ta1")
            + _sheet(_row(_text("first visible")), "Other", "ta2")
            + _sheet(_row(_text("exact")), "Cases")
            + _sheet(_row(_text("spaced")), " Spaced "),
            _HIDDEN_STYLE,
        )
    )
    assert _read(content, tmp_path) == ("Other", [(1, ["first visible"])])
    # An exact name beats one that differs in letter case, even further on.
    assert _read(content, tmp_path, "Cases") == ("Cases", [(1, ["exact"])])
    assert _read(content, tmp_path, "cases") == ("cases", [(1, ["hidden"])])
    assert _read(content, tmp_path, "CASES") == ("cases", [(1, ["hidden"])])
    assert _read(content, tmp_path, "spaced") == (" Spaced ", [(1, ["spaced"])])
    for wanted in (None, "Cases", "cases", "CASES", "spaced"):
        assert _read(content, tmp_path, wanted) == _calamine(content, tmp_path, wanted)
    with pytest.raises(SheetNotFound, match=r'Its sheets: "cases" \(hidden\), "Other", '):
        _read(content, tmp_path, "Q4")
    hidden_only = _ods(_content(_sheet(_row(_text("x")), "H", "ta1"), _HIDDEN_STYLE))
    with pytest.raises(SheetNotFound, match=r'no visible sheet.*Its sheets: "H" \(hidden\)\.'):
        _read(hidden_only, tmp_path)


def test_other_namespace_prefixes_read_the_same(tmp_path: Path) -> None:
    usual = _content(
        _sheet(_row(_blank(1) + _text("a<text:s text:c='2'/>b")), "S", "ta1")
        + _sheet(_row(_text("second")), "T"),
        _HIDDEN_STYLE,
    )
    # The same document with the table namespace as "t" and the text one as the default
    # (and as "x", for attributes, which a default namespace does not reach).
    other = (
        usual.replace("<table:", "<t:")
        .replace("</table:", "</t:")
        .replace(" table:", " t:")
        .replace("xmlns:table=", "xmlns:t=")
        .replace("<text:", "<")
        .replace("</text:", "</")
        .replace(" text:c=", " x:c=")
        .replace("xmlns:text=", f'xmlns:x="{_TEXT_NAMESPACE}" xmlns=')
    )
    assert "<t:table-row>" in other
    assert "<p>a<s x:c='2'/>b</p>" in other
    for wanted in (None, "S"):
        assert (
            _read(_ods(other), tmp_path, wanted)
            == _read(_ods(usual), tmp_path, wanted)
            == (("T", [(1, ["second"])]) if wanted is None else ("S", [(1, ["", "a  b"])]))
        )


def test_a_damaged_sheet_names_the_last_row_read(tmp_path: Path) -> None:
    good = "".join(
        _row(f'<table:table-cell office:value-type="float" office:value="{n}"/>')
        for n in range(1, 3001)
    )
    damaged = _row('<table:table-cell office:value-type="float" office:value="1">')
    path = tmp_path / "book.ods"
    path.write_bytes(_ods(_content(_sheet(good + damaged))))
    _, sheet_rows = ods.load(path, None)
    assert sheet_rows.take(2000)[0] == (1, ["1"])  # rows come before the damage is reached
    assert 0 < sheet_rows.line <= sheet_rows.last_row  # the percent shown goes by them
    with pytest.raises(NotTextError, match=r"cannot be read after row 3001 \(mismatched tag"):
        sheet_rows.take(2000)
    sheet_rows.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really", r"cannot be read \(.*zip"),
        (_ods(None), r"has no content\.xml"),
        (_ods(_content("<table:table>")), r"cannot be read \(mismatched tag"),
        (
            _ods(b"\x8a\x12 ciphered", '<manifest:encryption-data manifest:checksum="x"/>'),
            r"protected by a password",
        ),
    ],
)
def test_a_workbook_that_cannot_be_read(content: bytes, message: str, tmp_path: Path) -> None:
    with pytest.raises(NotTextError, match=message):
        _read(content, tmp_path)
