"""A workbook's header as the browser reads it (``frontend/lib/file-header.js``) for the
mapping step: the very cells the service's own reader (``api/reading/workbooks``) takes as the
header, for .xlsx and .ods files written by XlsxWriter and by LibreOffice, whichever sheet is
asked for; a large workbook's shared strings read only as far as the header needs; .xls and
what cannot be read answered null."""

from __future__ import annotations

import asyncio
import base64
import io
import random
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from playwright.async_api import Page

from api.reading.header import normalize_header
from api.reading.records import NotTextError
from api.reading.workbooks import ods, xlsx
from api.reading.workbooks.sheets import SheetNotFound, SheetRows
from tests.workbooks import converted, rows, stored, zip64
from tests.workbooks import xlsx as workbook

# The module on a File built from the bytes; how many bytes of it were read, and how long it
# took. Every way a File gives its bytes is counted.
READ_HEADER = """async ({ data, name, sheet }) => {
  const { readHeader } = await import("/lib/file-header.js");
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const file = new File([bytes], name);
  let read = 0;
  const slice = file.slice.bind(file);
  file.slice = (...args) => {
    const part = slice(...args);
    const buffer = part.arrayBuffer.bind(part);
    part.arrayBuffer = async () => {
      const got = await buffer();
      read += got.byteLength;
      return got;
    };
    const stream = part.stream.bind(part);
    part.stream = () => stream().pipeThrough(new TransformStream({
      transform(chunk, out) { read += chunk.byteLength; out.enqueue(chunk); },
    }));
    part.text = part.bytes = () => { throw new Error("read whole"); };
    return part;
  };
  const started = performance.now();
  const header = await readHeader(file, "", sheet);
  const ms = performance.now() - started;
  await new Promise((done) => setTimeout(done, 200)); // reads that go on after the answer
  return { header, read, ms };
}"""

HEADER = ["Case Number", "Status", "Opened On", "Description", "Internal ref"]


@dataclass(frozen=True)
class Read:
    header: list[str] | None
    read: int
    ms: float


async def browser_header(page: Page, content: bytes, sheet: str = "", name: str = "book") -> Read:
    data = base64.b64encode(content).decode("ascii")
    got: dict[str, Any] = await page.evaluate(
        READ_HEADER, {"data": data, "name": name, "sheet": sheet}
    )
    return Read(got["header"], got["read"], got["ms"])


def server_header(content: bytes, sheet: str | None) -> list[str] | None:
    """The header the service reads: the sheet's first record, without the blank cells at its
    end (which the header mapping ignores); None when it refuses the workbook or lacks the
    sheet."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book"
        path.write_bytes(content)
        with zipfile.ZipFile(path) as archive:
            is_xlsx = "xl/workbook.xml" in archive.namelist()
        sheet_rows: SheetRows
        try:
            if is_xlsx:
                _, sheet_rows = xlsx.load(path, sheet)
            else:
                _, sheet_rows = ods.load(path, sheet)
        except (SheetNotFound, NotTextError):
            return None
        try:
            while not sheet_rows.done:
                for _, cells in sheet_rows.take(1):
                    while cells and not normalize_header(cells[-1]):
                        cells = cells[:-1]
                    return cells
        except NotTextError:  # a sheet that breaks off
            return None
        finally:
            sheet_rows.close()
        return []


def _typed(sheet: Any, book: Any) -> None:
    """A header on row 3 from column C, after a row of spaces and an empty row, with a gap
    (column R) and cells of every kind, then blank and merely formatted cells at its end."""
    formats = {
        code: book.add_format({"num_format": code})
        for code in ("dd/mm/yy", "hh:mm", "yyyy-mm-dd hh:mm:ss", "0.00")
    }
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, "   ")
    cells: list[Callable[[int], None]] = [
        lambda c: sheet.write_string(2, c, " Case  Number "),
        lambda c: sheet.write_datetime(2, c, datetime(2024, 3, 7), formats["dd/mm/yy"]),
        lambda c: sheet.write_datetime(2, c, time(13, 5), formats["hh:mm"]),
        lambda c: sheet.write_datetime(
            2, c, datetime(2024, 3, 7, 13, 5, 9), formats["yyyy-mm-dd hh:mm:ss"]
        ),
        lambda c: sheet.write_number(2, c, 7),
        lambda c: sheet.write_number(2, c, 1.5, formats["0.00"]),
        lambda c: sheet.write_number(2, c, 0.1 + 0.2),
        lambda c: sheet.write_number(2, c, 12345678901234567890),
        lambda c: sheet.write_number(2, c, 0.00001234),
        lambda c: sheet.write_boolean(2, c, False),
        lambda c: sheet.write_formula(2, c, "=1/0", None, "#DIV/0!"),
        lambda c: sheet.write_formula(2, c, '="a"&"b"', None, "ab"),
        lambda c: sheet.write_rich_string(2, c, "plain ", bold, "bold", " tail"),
    ]
    for column, write in enumerate(cells, start=2):
        write(column)
    sheet.write_string(2, 16, 'Notes & <more> "quoted" é 😀\nsecond line')
    sheet.write_string(2, 18, "  ")
    sheet.write_blank(2, 20, None, bold)
    sheet.write_string(3, 2, "data")


def _written(*, inline: bool = False) -> bytes:
    """The typed sheet by XlsxWriter: shared strings, or (constant_memory) inline strings."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
        _typed(book.add_worksheet("Data"), book)
        book.close()
        return path.read_bytes()


TYPED = [
    "",
    "",
    " Case  Number ",
    "2024-03-07",
    "13:05:00",
    "2024-03-07 13:05:09",
    "7",
    "1.5",
    "0.3",
    "1.23456789012346e+19",
    "1.234e-05",
    "FALSE",
    "",
    "ab",
    "plain bold tail",
    "",
    'Notes & <more> "quoted" é 😀\nsecond line',
]

# A hidden first sheet, then "Cases" and "Other".
SHEETS = workbook(
    [
        ("Lists", rows([["Hidden", "header"]])),
        ("Cases", rows([[*HEADER[:2], None, *HEADER[2:]]], first_row=1)),
        ("Other", rows([["Other"]])),
    ],
    hidden=["Lists"],
)


def _workbooks() -> dict[str, bytes]:
    shared, inline = _written(), _written(inline=True)
    made = {
        "xlsx, shared strings": shared,
        "xlsx, inline strings": inline,
        "xlsx by LibreOffice": converted(shared, "xlsx"),
        "ods by LibreOffice": converted(shared, "ods"),
        "xlsx, zip64": zip64(shared),
        "sheets.xlsx": SHEETS,
        "sheets.ods": converted(SHEETS, "ods"),
    }
    made["ods, stored"] = stored(made["ods by LibreOffice"])
    return made


@pytest.fixture(scope="module")
async def workbooks() -> dict[str, bytes]:
    return await asyncio.to_thread(_workbooks)


@pytest.fixture
async def app_page(page: Page) -> Page:
    await page.goto("/")
    return page


@pytest.mark.parametrize(
    "kind",
    [
        "xlsx, shared strings",
        "xlsx, inline strings",
        "xlsx by LibreOffice",
        "ods by LibreOffice",
        "xlsx, zip64",
        "ods, stored",
    ],
)
async def test_the_header_cells_are_the_ones_the_service_reads(
    app_page: Page, workbooks: dict[str, bytes], kind: str
) -> None:
    content = workbooks[kind]
    read = await browser_header(app_page, content, name=f"{kind}.xlsx")
    expected = server_header(content, None)
    # LibreOffice keeps FALSE in an .ods as the number 0.
    assert expected == [("0" if c == "FALSE" and "ods" in kind else c) for c in TYPED]
    assert read.header == expected


@pytest.mark.parametrize("kind", ["sheets.xlsx", "sheets.ods"])
@pytest.mark.parametrize(
    ("sheet", "header"),
    [
        ("", [HEADER[0], HEADER[1], "", *HEADER[2:]]),  # the hidden first sheet passed over
        ("Other", ["Other"]),
        (" other ", ["Other"]),  # letter case and spaces aside
        ("lists", ["Hidden", "header"]),  # a hidden sheet named
        ("Q4", None),  # no such sheet: the upload says which there are
    ],
)
async def test_the_sheet_read_is_the_one_the_service_reads(
    app_page: Page, workbooks: dict[str, bytes], kind: str, sheet: str, header: list[str] | None
) -> None:
    content = workbooks[kind]
    assert server_header(content, sheet or None) == header
    assert (await browser_header(app_page, content, sheet)).header == header


async def test_large_shared_strings_are_read_only_as_far_as_the_header(app_page: Page) -> None:
    """200,000 distinct strings (7.8 MB of XML, 2.6 MB packed): the header's five are the first,
    and not much more of the file than they is read."""
    randomly = random.Random(7)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Cases")
    sheet.write_row(0, 0, HEADER)
    for row in range(1, 200_001):
        sheet.write_string(row, 0, f"{row:06d} {randomly.getrandbits(64):016x}")
    book.close()
    content = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").compress_size > 2_000_000

    read = await browser_header(app_page, content)
    assert read.header == HEADER == server_header(content, None)
    assert read.read < 400_000, f"{read.read} of {len(content)} bytes read"
    assert read.ms < 2_000


async def test_an_xls_or_what_cannot_be_read_answers_null(
    app_page: Page, workbooks: dict[str, bytes]
) -> None:
    shared = workbooks["xlsx, shared strings"]
    xls = await asyncio.to_thread(converted, shared, "xls")
    assert (await browser_header(app_page, xls, name="book.xls")).header is None
    cut = shared[: len(shared) // 2]  # no central directory
    assert (await browser_header(app_page, cut)).header is None
    # A ZIP archive that is no workbook (a Word document), and one whose sheet part is damaged.
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert (await browser_header(app_page, document.getvalue())).header is None
    damaged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(shared)) as source,
        zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b"<sheetData>") + 20]
            archive.writestr(info.filename, data)
    assert server_header(damaged.getvalue(), None) is None
    assert (await browser_header(app_page, damaged.getvalue())).header is None
    # A cell past Excel's last column: refused at once, not billions of empty cells before it.
    past = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(shared)) as source,
        zipfile.ZipFile(past, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<c r="[A-Z]+(\d+)"', rb'<c r="ZZZZZZZ\1"', data, count=1)
                assert b'r="ZZZZZZZ' in data
            archive.writestr(info.filename, data)
    assert server_header(past.getvalue(), None) is None
    assert (await browser_header(app_page, past.getvalue())).header is None
