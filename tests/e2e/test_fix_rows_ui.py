"""Fixing a failed import's rows in place, in the browser: the errors table switched to a grid of
the failed rows (their original cells, the bad ones marked with their message), edited from the
keyboard like a spreadsheet, and Submit corrections running the import again to completion.
At desktop width and 360 px."""

from __future__ import annotations

import re
from datetime import date

from playwright.async_api import Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.import_tools import (
    WIDTHS,
    at_width,
    expect_no_sideways_scroll,
    expect_within_width,
    open_import,
    seed,
    shot,
)
from tests.e2e.ui import IMPORT_TIMEOUT, expect_result, import_status, sign_in
from tests.factories import admin_setup
from tests.importing import case_fields

# Line 3's status and line 4's date are bad; the header is spelled as people write it.
BAD = (
    "Tag ID,Case Status,Date Opened,About\r\n"
    "F-1,1,01/05/2024,Water leak\r\n"
    "F-2,9,02/06/2024,Broken light\r\n"
    "F-3,0,02/30/2024,Noise\r\n"
)


def cell(page: Page, column: str, line: int) -> Locator:
    """A grid cell, by its label "<header> on line <n>: <value>"."""
    return page.get_by_role("grid", name="Failed rows").get_by_role(
        "gridcell", name=f"{column} on line {line}:"
    )


@WIDTHS
async def test_a_failed_import_fixed_in_the_grid_runs_again_and_completes(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await seed(live_server, admin, BAD, "July intake")
    assert failed["status"] == "failed", failed
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, failed)

    switch = page.get_by_role("button", name="Fix cells in place")
    await expect_within_width(page, switch)
    await switch.click()
    await expect(switch).to_have_attribute("aria-pressed", "true")
    # The failed rows only, with their original cells; the bad cells carry their message.
    grid = page.get_by_role("grid", name="Failed rows")
    await expect(grid.get_by_role("row")).to_have_count(3)  # the header and two failed rows
    status = cell(page, "Case Status", 3)
    await expect(status).to_have_accessible_name("Case Status on line 3: 9")
    await expect(status).to_have_attribute("aria-invalid", "")
    await expect(status).to_have_accessible_description(re.compile('case_status "9" is not valid'))
    opened = cell(page, "Date Opened", 4)
    await expect(opened).to_contain_text("not a real date")
    await expect(cell(page, "About", 4)).not_to_have_attribute("aria-invalid", "")
    await expect_no_sideways_scroll(page)
    await shot(page, "fix-rows-grid", width)

    # Enter edits, typing replaces, Enter keeps; the arrows move.
    await status.click()
    await expect(status).to_be_focused()
    await page.keyboard.press("Enter")
    editor = page.get_by_role("textbox", name="Case Status on line 3")
    await expect(editor).to_be_focused()
    await page.keyboard.type("1")
    await page.keyboard.press("Enter")
    await expect(status).to_be_focused()
    await expect(status).to_have_accessible_name("Case Status on line 3: 1")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowRight")
    await expect(opened).to_be_focused()
    # Escape leaves the cell as it was.
    await page.keyboard.press("Enter")
    await page.keyboard.type("nonsense")
    await page.keyboard.press("Escape")
    await expect(opened).to_be_focused()
    await expect(opened).to_have_accessible_name("Date Opened on line 4: 02/30/2024")
    # Typing on a cell starts editing it; Tab keeps the edit and moves right.
    await page.keyboard.type("02/13/2024")
    await page.keyboard.press("Tab")
    await expect(cell(page, "About", 4)).to_be_focused()
    await expect(opened).to_have_accessible_name("Date Opened on line 4: 02/13/2024")
    await expect(page.get_by_text("2 cells edited.")).to_be_visible()

    submit = page.get_by_role("button", name="Submit corrections")
    await expect_within_width(page, submit)
    await submit.click()
    await expect(import_status(page)).to_contain_text("Completed", timeout=IMPORT_TIMEOUT)
    await expect_result(page, rows=3, created=3, failed=0)
    await expect_no_sideways_scroll(page)
    cases = await case_fields(sessionmaker)
    assert sorted(cases) == ["F-1", "F-2", "F-3"]
    assert cases["F-2"][0] == 1
    assert cases["F-3"][1] == date(2024, 2, 13)
