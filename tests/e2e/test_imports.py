"""An admin's imports in the browser: the Add Imports dialog in its new tab, the import page,
the list that follows running imports, failures explained, corrected files and drafts."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.conftest import LiveWorker
from tests.e2e.import_tools import save_shot
from tests.e2e.ui import (
    ADD_HEADER,
    IMPORT_TIMEOUT,
    count_of,
    expect_import_page,
    expect_result,
    fill_new_import,
    open_admin,
    open_imports,
    open_new_import,
    queue_import,
    row_of,
    seed_import,
    set_file,
    sign_in,
)
from tests.factories import AdminSetup, admin_setup

BAD_DATE = (
    ADD_HEADER
    + "CASE-0101,1,03/07/2024,Broken hydrant on Oak Avenue\r\n"
    + "CASE-0102,0,02/30/2024,Pothole on Main Street\r\n"
)
CORRECTED = BAD_DATE.replace("02/30/2024", "02/13/2024")


async def _signed_in_on_imports(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> AdminSetup:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    return admin


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


async def test_the_downloaded_sample_imports_from_the_new_tab_and_its_cases_show_on_the_dashboard(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await _signed_in_on_imports(page, sessionmaker)
    await expect(row_of(page, "No imports yet.")).to_be_visible()

    dialog = await open_new_import(page)
    await dialog.get_by_role("textbox", name="Name").fill("First cases")
    await expect(dialog.get_by_role("link", name="Download Sample", exact=True)).to_have_count(0)
    await dialog.get_by_role("combobox", name="Type").select_option(label="Add cases")
    async with dialog.expect_download() as downloading:
        await dialog.get_by_role("link", name="Download Sample", exact=True).click()
    download = await downloading.value
    sample = tmp_path / download.suggested_filename
    await download.save_as(sample)
    assert sample.read_bytes().decode().startswith(ADD_HEADER)
    await set_file(dialog, "File", sample)
    await dialog.get_by_role("button", name="SAVE").click()

    await expect_import_page(dialog, "First cases", "Completed")
    await expect_result(dialog, rows=2, created=2, updated=0, failed=0)

    # Back in the first tab, the list has caught up by itself: the dialog's tab told it, so it
    # did not wait for its idle poll (every 10 s).
    await page.bring_to_front()
    row = row_of(page, "First cases")
    await expect(row).to_contain_text("Completed", timeout=5_000)
    await expect(row).to_contain_text("Add cases")
    await expect(row).to_contain_text(admin.email)

    await page.get_by_role("tab", name="Cases").click()
    await expect(count_of(page, "Active")).to_have_text("1")
    await expect(count_of(page, "Closed")).to_have_text("1")
    await expect(count_of(page, "Total")).to_have_text("2")
    await expect(row_of(page, "CASE-0001")).to_contain_text("Water supply complaint on Elm Street")

    await page.get_by_role("searchbox", name="Search").fill("library")
    await expect(row_of(page, "CASE-0001")).to_have_count(0)
    found = row_of(page, "CASE-0002")
    await expect(found).to_contain_text("Street light out near the library")
    await expect(found).to_contain_text("Closed")
    # Each case links to the import that created it.
    await found.get_by_role("link", name="View import").first.click()
    await expect(page.get_by_role("heading", name="First cases", exact=True)).to_be_visible()


async def test_the_xlsx_sample_imports_from_the_sheet_named_under_more_options(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    dialog = await open_new_import(page)
    await dialog.get_by_role("textbox", name="Name").fill("From a workbook")
    await dialog.get_by_role("combobox", name="Type").select_option(label="Add cases")
    async with dialog.expect_download() as downloading:
        await dialog.get_by_role("link", name="Download Sample (.xlsx)").click()
    download = await downloading.value
    assert download.suggested_filename == "cases-add-sample.xlsx"
    sample = tmp_path / download.suggested_filename
    await download.save_as(sample)
    assert sample.read_bytes().startswith(b"PK\x03\x04")
    await set_file(dialog, "File", sample)
    await dialog.get_by_text("More options").click()
    await dialog.get_by_role("textbox", name="Sheet").fill("Sample")
    await dialog.get_by_role("button", name="SAVE").click()

    await expect_import_page(dialog, "From a workbook", "Completed")
    await expect_result(dialog, rows=2, created=2, updated=0, failed=0)
    await expect(dialog.get_by_text('read as an .xlsx workbook · sheet "Sample"')).to_be_visible()


async def test_a_bad_date_fails_explained_then_the_corrected_file_completes(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    dialog = await open_new_import(page)
    await fill_new_import(dialog, "Spring cases", file=_write(tmp_path, "spring.csv", BAD_DATE))
    await save_shot(dialog, "add-imports.png", whole=False)
    await dialog.get_by_role("button", name="SAVE").click()

    await expect_import_page(dialog, "Spring cases", "Failed")
    summary = "1 row has errors. Line 3, date_opened:"
    await expect(dialog.get_by_role("status").filter(has_text=summary)).to_be_visible()
    await save_shot(dialog, "import-errors.png")
    errors = dialog.get_by_role("table", name="Errors")
    await expect(errors.get_by_role("row")).to_have_count(2)  # the header and the one error
    bad = errors.get_by_role("row").nth(1)
    await expect(bad.get_by_role("cell")).to_have_text(
        ["3", "date_opened", "02/30/2024", re.compile("not a real date")]
    )

    async with dialog.expect_download() as downloading:
        await dialog.get_by_role("link", name="Download errors (CSV)").click()
    download = await downloading.value
    saved = tmp_path / "errors.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [(r["line"], r["column"], r["value"], r["code"]) for r in rows] == [
        ("3", "date_opened", "02/30/2024", "invalid_date")
    ]

    # In the list, the Failed icon explains itself on hover and on keyboard focus.
    await page.bring_to_front()
    row = row_of(page, "Spring cases")
    await expect(row).to_contain_text("Failed", timeout=IMPORT_TIMEOUT)
    tooltip = row.get_by_role("tooltip")
    await expect(tooltip).to_be_hidden()
    await row.get_by_text("Failed").hover()
    await expect(tooltip).to_be_visible()
    await expect(tooltip).to_contain_text(summary)
    await save_shot(page, "imports-tooltip.png", whole=False)
    await page.mouse.move(0, 0)
    await expect(tooltip).to_be_hidden()
    await row.get_by_role("link", name="View Spring cases").focus()
    await page.keyboard.press("Shift+Tab")
    await expect(tooltip).to_be_visible()

    # The corrected file goes onto the same import, from its page.
    await dialog.bring_to_front()
    await set_file(dialog, "Upload corrected file", _write(tmp_path, "fixed.csv", CORRECTED))
    await dialog.get_by_role("button", name="Upload", exact=True).click()
    await expect_import_page(dialog, "Spring cases", "Completed")
    await expect_result(dialog, rows=2, created=2, failed=0)
    await expect(dialog.get_by_role("table", name="Errors")).to_have_count(0)


async def test_a_draft_saved_without_a_file_is_completed_later_from_its_page(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    dialog = await open_new_import(page)
    await fill_new_import(dialog, "Weekly cases")
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "Weekly cases", "Draft")
    await dialog.close()

    # Later, from the list: the draft waits there until its file comes.
    await page.reload()
    row = row_of(page, "Weekly cases")
    await expect(row).to_contain_text("Draft")
    await row.get_by_role("link", name="View Weekly cases").click()
    await expect_import_page(page, "Weekly cases", "Draft")
    await set_file(page, "File", _write(tmp_path, "weekly.csv", CORRECTED))
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect_import_page(page, "Weekly cases", "Completed")
    await expect_result(page, rows=2, created=2)


async def test_the_dialog_shows_server_errors_next_to_their_field(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, tmp_path: Path
) -> None:
    admin = await _signed_in_on_imports(page, sessionmaker)
    await seed_import(live_server, admin, CORRECTED, "Taken name")

    dialog = await open_new_import(page)
    await fill_new_import(dialog, "Taken name", file=_write(tmp_path, "cases.csv", CORRECTED))
    await dialog.get_by_role("button", name="SAVE").click()
    name = dialog.get_by_role("textbox", name="Name")
    await expect(name).to_have_attribute("aria-invalid", "")
    await expect(name).to_have_accessible_description(
        'An import named "Taken name" already exists in this app; choose another name.'
    )
    await expect(dialog.get_by_role("heading", name="Add Imports")).to_be_visible()

    # Nothing typed is lost: a new name saves the same form.
    await name.fill("Another name")
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "Another name", "Failed")  # the same tags exist already
    await expect(dialog.get_by_role("table", name="Errors")).to_contain_text(
        "is already a case of this app"
    )


async def test_the_list_follows_an_import_from_queued_to_completed_without_a_reload(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    live_worker: LiveWorker,
) -> None:
    admin = await _signed_in_on_imports(page, sessionmaker)
    async with live_worker.paused():
        await queue_import(live_server, admin, CORRECTED, "Nightly cases")
        await page.reload()
        row = row_of(page, "Nightly cases")
        await expect(row).to_contain_text("Queued")
    # The worker is back: the row moves on by polling, the page is never reloaded.
    await expect(row).to_contain_text("Completed", timeout=IMPORT_TIMEOUT)
    await expect(row.get_by_role("cell").nth(3)).to_have_text("2")


async def test_validate_only_checks_the_file_and_changes_nothing(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    dialog = await open_new_import(page)
    await fill_new_import(dialog, "Dry run", file=_write(tmp_path, "dry.csv", CORRECTED))
    await dialog.get_by_role("checkbox", name="Validate only").check()
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "Dry run", "Checked: would create 2, update 0")
    await expect(dialog.get_by_text("validate only")).to_be_visible()

    await page.get_by_role("tab", name="Cases").click()
    await expect(count_of(page, "Total")).to_have_text("0")


async def test_the_list_pages_forward_and_back(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    for n in range(1, 22):  # a page holds 20
        await queue_import(live_server, admin, None, f"Draft {n:02}")
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)

    rows = page.get_by_role("table", name="Imports").locator("tbody tr")
    previous = page.get_by_role("button", name="Previous page")
    following = page.get_by_role("button", name="Next page")
    await expect(rows).to_have_count(20)
    await expect(previous).to_be_disabled()
    await following.click()
    await expect(rows).to_have_count(1)
    await expect(following).to_be_disabled()
    await previous.click()
    await expect(rows).to_have_count(20)
    await expect(previous).to_be_disabled()


UK_FILE = (
    ADD_HEADER
    + "UK-1,1,02/01/2024,Fence down on Mill Lane\r\n"
    + "UK-2,0,28/11/2023,Flooded underpass on the High Street\r\n"
)


async def test_a_day_first_file_is_refused_until_day_first_is_chosen(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    uk = _write(tmp_path, "uk.csv", UK_FILE)
    dialog = await open_new_import(page)
    await fill_new_import(dialog, "UK cases", file=uk)
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "UK cases", "Failed")
    message = dialog.get_by_role("table", name="Errors").get_by_role("row").nth(1)
    await expect(message).to_contain_text('can only be read day first (the first is "28/11/2023"')
    await expect(message).to_contain_text('choose the date order "day first"')
    await dialog.close()

    dialog = await open_new_import(page)
    await fill_new_import(dialog, "UK cases, day first", file=uk)
    date_order = dialog.get_by_role("combobox", name="Date order")
    await expect(date_order).to_be_hidden()  # folded under More options
    await dialog.get_by_text("More options").click()
    await date_order.select_option(label="Day first (dd/mm/yyyy)")
    encoding = dialog.get_by_role("combobox", name="Encoding")
    await expect(encoding.get_by_role("option")).to_contain_text(
        ["Decide from the file", "UTF-8", "UTF-8 with a byte-order mark"]
    )
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "UK cases, day first", "Completed")
    await expect_result(dialog, rows=2, created=2, failed=0)
    await expect(
        dialog.get_by_text("dates day first · read as utf-8, delimiter comma")
    ).to_be_visible()

    await page.bring_to_front()
    await page.get_by_role("tab", name="Cases").click()
    await expect(row_of(page, "UK-1")).to_contain_text("2024-01-02")
    await expect(row_of(page, "UK-2")).to_contain_text("2023-11-28")


async def test_dates_read_month_first_by_assumption_are_flagged_on_the_import_page(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await _signed_in_on_imports(page, sessionmaker)
    dialog = await open_new_import(page)
    content = UK_FILE.replace("28/11/2023", "03/11/2023")
    await fill_new_import(dialog, "Unclear dates", file=_write(tmp_path, "unclear.csv", content))
    await dialog.get_by_role("checkbox", name="Validate only").check()
    await dialog.get_by_role("button", name="SAVE").click()
    await expect_import_page(dialog, "Unclear dates", "Checked: would create 2, update 0")
    warnings = dialog.get_by_role("note", name="Warnings")
    await expect(warnings).to_contain_text("2 dates were read month first (mm/dd/yyyy)")
