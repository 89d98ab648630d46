"""Workbooks through the whole pipeline: the real API, worker, PostgreSQL and Redis. Each is made
with real cell types (tests/workbooks.py) and what is stored is compared with what was typed."""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import cases_by_tag, count_cases, errors_of, import_file, where
from tests.workbooks import Filler, converted, rows, xlsx

HEADER = ("Tag ID", "Case Status", "Date Opened", "About")


def _cases_sheet(text_formula: bool = True) -> Filler:
    """Sheet row 1 blank; the header on row 2; typed cells, formulas, an empty row, and a
    formatted empty cell far to the right and below."""

    def fill(sheet: Any, book: Any) -> None:
        rows(
            [
                HEADER,
                ("W-1", 1, date(2024, 3, 7), "Leak on Elm St"),
                ("W-2", 0, datetime(2023, 11, 15, 0, 0), 7),  # a date-time at midnight; a number
                (),  # sheet row 5: empty
                ("W-3", None, date(2024, 1, 2), 1.5),
                ("W-4", 1, date(2024, 12, 25), True),
                ("W-5", 1, date(2024, 2, 1), "Formula result"),
            ],
            first_row=1,
        )(sheet, book)
        sheet.write_formula(5, 1, "=1-1", None, 0)  # W-3's status: its stored value, 0
        if text_formula:
            sheet.write_formula(7, 3, '="Formula "&"result"', None, "Formula result")
        sheet.write_blank(11, 8, None, book.add_format({"bold": True}))

    return fill


def _notes(sheet: Any, book: Any) -> None:
    rows([("Read me", "not cases")])(sheet, book)


TYPED = {
    "W-1": (1, date(2024, 3, 7), "Leak on Elm St"),
    "W-2": (0, date(2023, 11, 15), "7"),
    "W-3": (0, date(2024, 1, 2), "1.5"),
    "W-4": (1, date(2024, 12, 25), "TRUE"),
    "W-5": (1, date(2024, 2, 1), "Formula result"),
}


def _workbook(text_formula: bool = True) -> bytes:
    """A hidden first sheet, then the cases."""
    return xlsx([("Notes", _notes), ("Cases", _cases_sheet(text_formula))], hidden=["Notes"])


async def _stored_as_typed(
    sessionmaker: async_sessionmaker[AsyncSession], typed: dict[str, Any] = TYPED
) -> None:
    cases = await cases_by_tag(sessionmaker)
    assert {tag: (c.case_status, c.date_opened, c.about) for tag, c in cases.items()} == typed


async def test_an_xlsx_is_stored_cell_by_cell_as_typed(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, _workbook(), filename="cases.xlsx")
    assert done["status"] == "completed", done
    assert done["result"]["rows"] == 5
    assert done["file"]["format"] == "xlsx"
    assert (done["file"]["encoding"], done["file"]["delimiter"]) == (None, None)
    assert done["sheet"] is None
    assert done["warnings"] == []  # date cells are dates: no date order to confirm
    await _stored_as_typed(sessionmaker)


@pytest.mark.parametrize("kind", ["xls", "ods"])
async def test_xls_and_ods_are_stored_as_typed(
    kind: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # LibreOffice converts without calculating: a text formula's stored value would not survive.
    content = converted(_workbook(text_formula=False), kind)
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, content, filename=f"cases.{kind}")
    assert done["status"] == "completed", done
    assert done["file"]["format"] == kind
    assert (done["file"]["encoding"], done["file"]["delimiter"]) == (None, None)
    typed = dict(TYPED)
    if kind == "ods":  # LibreOffice keeps TRUE in an .ods as =TRUE(), whose stored value is 1
        typed["W-4"] = (1, date(2024, 12, 25), "1")
    await _stored_as_typed(sessionmaker, typed)


async def test_errors_name_the_sheet_row(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    def sheet(ws: Any, book: Any) -> None:
        rows(
            [
                ("tag_id", "case_status", "date_opened", "about"),
                ("E-1", 1, date(2024, 3, 7), "Fine"),
                (),
                ("E-3", 9, date(2024, 3, 7), "Bad status"),  # sheet row 4
                ("E-4", 1, "02/30/2024", "Bad date typed as text"),  # row 5
                ("E-5", 1, None, "A formula error where the date goes"),  # row 6
                (12345678901234567890, 1, date(2024, 3, 8), "A tag typed as a number"),  # row 7
            ]
        )(ws, book)
        ws.write_formula(5, 2, "=1/0", None, "#DIV/0!")

    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, xlsx([("Cases", sheet)]), filename="e.xlsx")
    assert done["status"] == "failed", done
    errors = await errors_of(client, admin, done["id"])
    assert where(errors) == [
        (4, "case_status", "invalid_status"),
        (5, "date_opened", "invalid_date"),
        # An error cell reads as blank (docs/format.md, "Cell values").
        (6, "date_opened", "required"),
        (7, "tag_id", "invalid_tag_id"),
    ]
    assert errors[0]["value"] == "9"
    assert errors[3]["value"] == "1.23456789012346e+19"
    assert "spreadsheet" in errors[3]["message"]
    assert done["error"]["summary"].startswith("4 rows have errors. Line 4, case_status:")
    assert await count_cases(sessionmaker) == 0


async def test_columns_count_from_column_a_as_in_a_csv_export(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    def sheet(ws: Any, book: Any) -> None:
        for r, row in enumerate([HEADER, ("C-1", 1, "03/07/2024", "Starts in column C")]):
            ws.write_row(r, 2, row)

    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, xlsx([("Cases", sheet)]), filename="c.xlsx")
    assert done["status"] == "failed", done
    errors = await errors_of(client, admin, done["id"])
    assert [(e["line"], e["code"], e["message"]) for e in errors] == [
        (
            1,
            "unknown_column",
            "header cell 1 (spreadsheet column A) is blank; name the column or delete it",
        ),
        (
            1,
            "unknown_column",
            "header cell 2 (spreadsheet column B) is blank; name the column or delete it",
        ),
    ]


def _two_sheets() -> bytes:
    def summary(ws: Any, book: Any) -> None:
        rows([("Total", "2")])(ws, book)

    def data(ws: Any, book: Any) -> None:
        rows([HEADER, ("S-1", 1, date(2024, 5, 6), "From the second sheet")])(ws, book)

    def archive(ws: Any, book: Any) -> None:
        rows([("old",)])(ws, book)

    return xlsx([("Summary", summary), ("Data", data), ("Archive", archive)], hidden=["Archive"])


async def test_the_sheet_field_chooses_the_sheet(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # Any letter case and surrounding spaces, when no sheet has the name exactly.
    done = await import_file(client, admin, _two_sheets(), filename="b.xlsx", sheet=" data")
    assert done["status"] == "completed", done
    assert done["sheet"] == " data"
    assert (await cases_by_tag(sessionmaker))["S-1"].about == "From the second sheet"


async def test_a_missing_sheet_names_the_sheets_of_the_workbook(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, _two_sheets(), filename="b.xlsx", sheet="Cases")
    assert done["status"] == "failed", done
    [error] = await errors_of(client, admin, done["id"])
    assert (error["line"], error["column"], error["value"], error["code"]) == (
        None,
        None,
        "Cases",
        "sheet_not_found",
    )
    assert error["message"] == (
        'The workbook has no sheet "Cases". Its sheets: "Summary", "Data", "Archive" (hidden).'
    )
    assert done["file"]["format"] == "xlsx"  # a workbook, just not with that sheet
    assert done["error"]["summary"] == "The file cannot be imported. " + error["message"]


async def test_without_a_sheet_field_the_first_visible_sheet_is_read(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, _two_sheets(), filename="b.xlsx")
    assert done["status"] == "failed", done
    errors = await errors_of(client, admin, done["id"])
    # The header of Summary, not of Data (the second sheet) nor Archive (hidden).
    assert [(e["line"], e["value"], e["code"]) for e in errors][:2] == [
        (1, "Total", "unknown_column"),
        (1, "2", "unknown_column"),
    ]


async def test_an_empty_sheet_and_a_sheet_with_only_a_header(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    def header(ws: Any, book: Any) -> None:
        rows([HEADER])(ws, book)

    def nothing(ws: Any, book: Any) -> None:
        pass

    admin = await admin_setup(sessionmaker)
    book = xlsx([("Empty", nothing), ("Header", header)])
    for sheet, message in [
        ("Empty", 'The sheet "Empty" is empty: it has no header line.'),
        ("Header", 'The sheet "Header" has a header but no data rows.'),
    ]:
        done = await import_file(
            client, admin, book, filename="b.xlsx", sheet=sheet, name=f"only {sheet}"
        )
        [error] = await errors_of(client, admin, done["id"])
        assert (error["code"], error["message"]) == ("file_empty", message)


# -- the four paths -------------------------------------------------------------------------------


def _add_rows(count: int, prefix: str = "P", *, bad_line: int | None = None) -> Filler:
    """``count`` valid add rows (P-0 ...), the header on sheet row 1; the row on ``bad_line``
    has a status of 7."""
    body = [
        (
            f"{prefix}-{n}",
            7 if n + 2 == bad_line else n % 2,
            date(2023, 1 + n % 12, 1),
            f"{prefix} {n}",
        )
        for n in range(count)
    ]
    return rows([HEADER, *body])


def _path_taken(caplog: pytest.LogCaptureFixture, done: dict[str, Any]) -> str:
    for path in ("fast", "checked"):
        if f"import {done['id']} ({path})" in caplog.text:
            return path
    raise AssertionError(caplog.text)


async def test_a_workbook_takes_every_path(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="worker.timing")
    admin = await admin_setup(sessionmaker)
    count = 9_000  # more than two progress slices

    # validate_only: the dry path; nothing is stored.
    book = xlsx([("Cases", _add_rows(count))])
    dry = await import_file(
        client, admin, book, filename="a.xlsx", name="dry", validate_only="true"
    )
    assert (dry["status"], dry["result"]["created"]) == ("completed", count), dry
    assert _path_taken(caplog, dry) == "fast"
    assert await count_cases(sessionmaker) == 0

    # add: the direct path.
    added = await import_file(client, admin, book, filename="a.xlsx", name="add")
    assert (added["status"], added["result"]["created"]) == ("completed", count), added
    assert _path_taken(caplog, added) == "fast"
    assert added["progress"]["percent"] == 100.0

    # modify: the batched path; a blank cell keeps the stored value.
    changes = rows(
        [
            ("tag_id", "case_status", "about"),
            *((f"P-{n}", 1, f"Changed {n}" if n % 3 else None) for n in range(count)),
        ]
    )
    modified = await import_file(
        client,
        admin,
        xlsx([("Changes", changes)]),
        filename="m.xlsx",
        name="modify",
        type_="cases.modify",
    )
    assert modified["status"] == "completed", modified
    assert modified["result"]["updated"] + modified["result"]["unchanged"] == count
    assert _path_taken(caplog, modified) == "fast"
    cases = await cases_by_tag(sessionmaker)
    assert (cases["P-4"].case_status, cases["P-4"].about) == (1, "Changed 4")
    assert (cases["P-3"].case_status, cases["P-3"].about) == (1, "P 3")

    # on_error=skip: the checked path; the bad row is reported on its sheet row.
    skipped_book = xlsx([("Cases", _add_rows(10, "K", bad_line=6))])
    skipped = await import_file(
        client, admin, skipped_book, filename="s.xlsx", name="skip", on_error="skip"
    )
    assert skipped["status"] == "completed", skipped
    assert (skipped["result"]["created"], skipped["result"]["failed"]) == (9, 1)
    assert _path_taken(caplog, skipped) == "checked"
    assert where(await errors_of(client, admin, skipped["id"])) == [
        (6, "case_status", "invalid_status")
    ]


def _cut_sheet(book: bytes, keep: float) -> bytes:
    """The workbook with its sheet's XML cut short, as a copy broken off mid-write is."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: int(len(data) * keep)]
            target.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


async def test_a_sheet_damaged_past_its_first_rows_stores_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # Rows are read, checked and copied a slice at a time before the damage is reached.
    book = _cut_sheet(xlsx([("Cases", _add_rows(9_000))]), keep=0.8)
    done = await import_file(client, admin, book, filename="cut.xlsx")
    assert done["status"] == "failed", done
    [error] = await errors_of(client, admin, done["id"])
    assert error["code"] == "not_text"
    assert "sheet cannot be read after row 7" in error["message"], error["message"]
    assert error["message"].endswith("save it again as .xlsx.")
    assert await count_cases(sessionmaker) == 0


# -- what is no workbook -------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
            "The file is a Word document (.docx), not a spreadsheet.",
        ),
        (_zip({"photo.jpg": b"\xff\xd8\xff"}), "The file is a ZIP archive, not CSV text or a "),
        (_workbook()[:5000], "The file is a damaged ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "The file is an Office 97-2003 file"),
    ],
)
async def test_other_zips_and_ole2_files_are_not_text(
    content: bytes,
    message: str,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, content, filename="cases.xlsx")
    assert done["status"] == "failed", done
    [error] = await errors_of(client, admin, done["id"])
    assert error["code"] == "not_text"
    assert error["message"].startswith(message), error["message"]
