"""The Add Imports dialog's column mapping: a file whose header has columns the type does not
know shows a mapping step (file column → field, or Ignore), read in the browser from a CSV
file's first line or a workbook's sheet (.xlsx, .ods), prefilled by name and from the app's last
mapping; the upload sends it as ``columns`` and the import completes. At desktop width and
360 px."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.import_tools import WIDTHS, at_width, shot
from tests.e2e.ui import ADD_HEADER, expect_fits, expect_import_page, expect_result, sign_in
from tests.factories import AdminSetup, admin_setup
from tests.importing import case_fields
from tests.workbooks import Cell, converted, rows, xlsx

# Semicolons, a byte-order mark, "Case Number" (no column of Add cases) and "Internal ref"
# (one to leave out); the other three are known spellings.
BAD_HEADER = (
    "\ufeffCase Number;Status;Opened On;Description;Internal ref\r\n"
    "M-1;1;01/05/2024;Water leak;x-17\r\n"
    "M-2;0;02/06/2024;Broken light;x-18\r\n"
)


# The same file as a workbook's sheet "Cases", after a sheet "Known" whose header the type
# knows; dates are date cells, statuses numbers.
WORKBOOK_HEADER = ["Case Number", "Status", "Opened On", "Description", "Internal ref"]
WORKBOOK_ROWS: list[list[Cell]] = [
    ["W-1", 1, date(2024, 1, 5), "Water leak", "x-17"],
    ["W-2", 0, date(2024, 2, 6), "Broken light", "x-18"],
]
LAST_MAPPING = '{"Case Number": "tag_id", "Internal ref": null}'


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _workbooks() -> dict[str, bytes]:
    """The workbook as LibreOffice saves it, as .xlsx and as .ods."""
    known = rows(
        [["tag_id", "case_status", "date_opened", "about"], ["K-1", 1, date(2024, 1, 5), "x"]]
    )
    cases = rows([WORKBOOK_HEADER, *WORKBOOK_ROWS])
    made = xlsx([("Cases", cases), ("Known", known)])
    known_first = xlsx([("Known", known), ("Cases", cases)])
    return {
        "xlsx": converted(made, "xlsx"),
        "ods": converted(made, "ods"),
        "known first.xlsx": converted(known_first, "xlsx"),
    }


@pytest.fixture(scope="module")
async def workbooks() -> dict[str, bytes]:
    return await asyncio.to_thread(_workbooks)


async def _remember_mapping(live_server: str, admin: AdminSetup) -> None:
    """An earlier draft of the type made the app's last mapping."""
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        made = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={"name": "Earlier draft", "type": "cases.add", "columns": LAST_MAPPING},
        )
        assert made.status_code == 201, made.text


async def _open_dialog(page: Page, admin: AdminSetup, name: str, file: Path) -> None:
    await page.goto(f"/#/apps/{admin.slug}/imports/new")
    await page.get_by_role("textbox", name="Name").fill(name)
    await page.get_by_role("combobox", name="Type").select_option(label="Add cases")
    await page.get_by_label("File", exact=True).set_input_files(file)


async def _import(live_server: str, admin: AdminSetup, name: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        found = await client.get(f"/api/apps/{admin.slug}/imports")
        item = next(i for i in found.raise_for_status().json()["items"] if i["name"] == name)
        body: dict[str, Any] = (
            (await client.get(f"/api/apps/{admin.slug}/imports/{item['id']}"))
            .raise_for_status()
            .json()
        )
        return body


def mapped(page: Page, header: str) -> Locator:
    return page.get_by_role("combobox", name=f"File column {header}", exact=True)


@WIDTHS
async def test_a_file_with_unknown_columns_is_mapped_in_the_dialog_and_completes(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    tmp_path: Path,
    width: int,
) -> None:
    admin = await admin_setup(sessionmaker)
    await at_width(page, width)
    await sign_in(page, admin.email)
    await _open_dialog(page, admin, "Mapped intake", _write(tmp_path, "intake.csv", BAD_HEADER))

    step = page.get_by_role("group", name="Column mapping")
    await expect(step).to_be_visible()
    await expect(step).to_contain_text("This file has columns that Add cases does not know.")
    # Known spellings are prefilled; the unknown columns start as Ignore.
    await expect(mapped(page, "Status")).to_have_value("case_status")
    await expect(mapped(page, "Opened On")).to_have_value("date_opened")
    await expect(mapped(page, "Description")).to_have_value("about")
    await expect(mapped(page, "Case Number")).to_have_value("")
    await expect(mapped(page, "Internal ref")).to_have_value("")
    await expect(mapped(page, "Case Number").get_by_role("option")).to_have_text(
        [
            "Ignore",
            "tag_id (required)",
            "case_status (required)",
            "date_opened (required)",
            "about (required)",
        ]
    )

    # A required field no column fills, and a field filled twice, are said before uploading.
    await page.get_by_role("button", name="SAVE").click()
    await expect(
        step.get_by_role("alert").filter(has_text="Choose a file column for tag_id.")
    ).to_be_visible()
    await mapped(page, "Internal ref").select_option(label="about (required)")
    await mapped(page, "Case Number").select_option(label="tag_id (required)")
    await page.get_by_role("button", name="SAVE").click()
    await expect(
        step.get_by_text('about is already filled by the file column "Description".')
    ).to_be_visible()
    await mapped(page, "Internal ref").select_option(label="Ignore")
    await expect_fits(page, f"{width} px")
    await shot(page, "column-mapping", width)

    await page.get_by_role("button", name="SAVE").click()
    await expect_import_page(page, "Mapped intake", "Completed")
    await expect_result(page, rows=2, created=2, failed=0)
    item = await _import(live_server, admin, "Mapped intake")
    assert item["columns"] == {
        "Case Number": "tag_id",
        "Status": "case_status",
        "Opened On": "date_opened",
        "Description": "about",
        "Internal ref": None,
    }
    assert sorted(await case_fields(sessionmaker)) == ["M-1", "M-2"]


async def test_the_next_file_of_the_type_is_prefilled_from_the_apps_last_mapping(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    await _remember_mapping(live_server, admin)
    await sign_in(page, admin.email)
    content = BAD_HEADER.replace("M-", "N-")
    await _open_dialog(page, admin, "Next intake", _write(tmp_path, "next.csv", content))

    await expect(mapped(page, "Case Number")).to_have_value("tag_id")
    await expect(mapped(page, "Internal ref")).to_have_value("")
    await page.get_by_role("button", name="SAVE").click()
    await expect_import_page(page, "Next intake", "Completed")
    await expect_result(page, rows=2, created=2, failed=0)


async def test_a_header_the_type_knows_shows_no_mapping_step(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    known = "Tag ID,Case Status,Date Opened,About\r\nK-1,1,01/05/2024,Known\r\n"
    await _open_dialog(page, admin, "Known header", _write(tmp_path, "known.csv", known))
    await expect(page.get_by_role("textbox", name="Name")).to_have_value("Known header")
    # Choosing a file the type partly does not know shows the step; one it knows hides it again.
    await page.get_by_label("File", exact=True).set_input_files(
        _write(
            tmp_path, "odd.csv", ADD_HEADER.replace("about", "remarks") + "K-1,1,01/05/2024,x\r\n"
        )
    )
    step = page.get_by_role("group", name="Column mapping")
    await expect(mapped(page, "remarks")).to_have_value("")
    await page.get_by_label("File", exact=True).set_input_files(tmp_path / "known.csv")
    await expect(step).to_be_hidden()
    await page.get_by_role("button", name="SAVE").click()
    await expect_import_page(page, "Known header", "Completed")
    item = await _import(live_server, admin, "Known header")
    assert item["columns"] is None


@WIDTHS
@pytest.mark.parametrize("kind", ["xlsx", "ods"])
async def test_a_workbooks_unknown_columns_are_mapped_in_the_dialog_and_it_completes(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    tmp_path: Path,
    workbooks: dict[str, bytes],
    kind: str,
    width: int,
) -> None:
    admin = await admin_setup(sessionmaker)
    await _remember_mapping(live_server, admin)
    await at_width(page, width)
    await sign_in(page, admin.email)
    name = f"Workbook intake {kind}"
    await _open_dialog(page, admin, name, _write(tmp_path, f"intake.{kind}", workbooks[kind]))

    # Its first sheet's header, read in the browser: the app's last mapping, then by name.
    step = page.get_by_role("group", name="Column mapping")
    await expect(step).to_contain_text("This file has columns that Add cases does not know.")
    await expect(mapped(page, "Case Number")).to_have_value("tag_id")
    await expect(mapped(page, "Status")).to_have_value("case_status")
    await expect(mapped(page, "Opened On")).to_have_value("date_opened")
    await expect(mapped(page, "Description")).to_have_value("about")
    await expect(mapped(page, "Internal ref")).to_have_value("")
    await expect(step.get_by_role("combobox")).to_have_count(5)
    await expect_fits(page, f"{width} px")

    await page.get_by_role("button", name="SAVE").click()
    await expect_import_page(page, name, "Completed")
    await expect_result(page, rows=2, created=2, failed=0)
    item = await _import(live_server, admin, name)
    assert item["columns"] == {
        "Case Number": "tag_id",
        "Status": "case_status",
        "Opened On": "date_opened",
        "Description": "about",
        "Internal ref": None,
    }
    assert sorted(await case_fields(sessionmaker)) == ["W-1", "W-2"]


async def test_the_sheet_named_under_more_options_is_the_one_mapped(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    tmp_path: Path,
    workbooks: dict[str, bytes],
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    book = _write(tmp_path, "two sheets.xlsx", workbooks["known first.xlsx"])
    await _open_dialog(page, admin, "Second sheet", book)
    # The first sheet's header is known: no step.
    await expect(page.get_by_role("textbox", name="Name")).to_have_value("Second sheet")
    step = page.get_by_role("group", name="Column mapping")
    await expect(step).to_be_hidden()

    # Naming the other sheet reads its header; SAVE right after shows the step, sends nothing.
    await page.get_by_text("More options").click()
    await page.get_by_role("textbox", name="Sheet").fill("cases")
    await page.get_by_role("button", name="SAVE").click()
    await expect(mapped(page, "Case Number")).to_be_focused()
    await expect(mapped(page, "Case Number")).to_have_value("")
    await expect(page.get_by_role("heading", name="Add Imports")).to_be_visible()
    await mapped(page, "Case Number").select_option(label="tag_id (required)")

    await page.get_by_role("button", name="SAVE").click()
    await expect_import_page(page, "Second sheet", "Completed")
    await expect_result(page, rows=2, created=2, failed=0)
    item = await _import(live_server, admin, "Second sheet")
    assert item["sheet"] == "cases"
    assert item["columns"]["Case Number"] == "tag_id"
    assert sorted(await case_fields(sessionmaker)) == ["W-1", "W-2"]
