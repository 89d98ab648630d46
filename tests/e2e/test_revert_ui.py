"""Undo in the browser: Revert on an applied import, its confirmation naming what will be
deleted and restored, the revert's page, conflicts listed, and "Reverted by" on the import.
At desktop width and 360 px."""

from __future__ import annotations

from datetime import date

from playwright.async_api import Page, expect
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
from tests.e2e.ui import ADD_HEADER, IMPORT_TIMEOUT, expect_result, import_status, sign_in
from tests.factories import admin_setup, make_member, make_user
from tests.importing import case_fields

SEED = ADD_HEADER + "C-1,1,01/05/2024,Water leak\r\n"
# Changes C-1's description and creates C-2 and C-3.
UPSERT = (
    ADD_HEADER
    + "C-1,,,Leak fixed\r\n"
    + "C-2,1,02/06/2024,Broken light\r\n"
    + "C-3,0,03/07/2024,Noise\r\n"
)


@WIDTHS
async def test_a_confirmed_revert_deletes_the_created_cases_and_restores_the_changed_ones(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    done = await seed(live_server, admin, UPSERT, "May upsert", "cases.upsert")
    assert (done["result"]["created"], done["result"]["updated"]) == (2, 1), done
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, done)

    revert = page.get_by_role("button", name="Revert", exact=True)
    await expect_within_width(page, revert)
    await revert.click()
    dialog = page.get_by_role("dialog", name="Revert “May upsert”?")
    await expect(dialog).to_contain_text("2 cases created by this import will be deleted.")
    await expect(dialog).to_contain_text(
        "1 case changed by this import will have its fields restored to what they were before."
    )
    confirm = dialog.get_by_role("button", name="Confirm revert")
    await expect_within_width(page, confirm)
    await expect_no_sideways_scroll(page)
    await shot(page, "revert-confirm", width)

    # Cancel changes nothing; confirming queues the revert and opens it.
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await revert.click()
    await confirm.click()
    await expect(page.get_by_role("heading", name="Revert of May upsert")).to_be_visible()
    await expect(import_status(page)).to_contain_text("Completed", timeout=IMPORT_TIMEOUT)
    await expect_result(page, deleted=2, updated=1, failed=0)
    await expect(page.get_by_text("Reverts May upsert")).to_be_visible()
    cases = await case_fields(sessionmaker)
    assert sorted(cases) == ["C-1"]
    assert cases["C-1"][:3] == (1, date(2024, 1, 5), "Water leak")

    # The import says it was reverted, and offers no second revert.
    await page.get_by_role("link", name="May upsert", exact=True).click()
    await expect(page.get_by_text("Reverted by Revert of May upsert")).to_be_visible()
    await expect(page.get_by_role("button", name="Revert", exact=True)).to_have_count(0)
    await expect_no_sideways_scroll(page)


@WIDTHS
async def test_a_revert_skipping_conflicts_reverts_the_rest_and_lists_them(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await seed(live_server, admin, UPSERT.replace("C-1,,,Leak fixed\r\n", ""), "June add")
    # C-2 changes after the add: reverting the add would lose that change.
    await seed(live_server, admin, "tag_id,about\r\nC-2,Light repaired\r\n", "Edit", "cases.modify")
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, done)

    await page.get_by_role("button", name="Revert", exact=True).click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("checkbox", name="Skip conflicts").check()
    await dialog.get_by_role("button", name="Confirm revert").click()

    await expect(page.get_by_role("heading", name="Revert of June add")).to_be_visible()
    await expect_result(page, deleted=1, failed=1)
    conflicts = page.get_by_role("table", name="Conflicts")
    await expect(conflicts.get_by_role("row").filter(has_text="C-2")).to_contain_text(
        'changed by the import "Edit"'
    )
    rows_file = page.get_by_role("link", name="Download failed rows to fix (CSV)")
    await expect(rows_file).to_have_count(0)
    await expect_no_sideways_scroll(page)
    await shot(page, "revert-conflicts", width)
    cases = await case_fields(sessionmaker)
    assert sorted(cases) == ["C-2"]
    assert cases["C-2"][2] == "Light repaired"


async def test_a_viewer_reads_plans_and_errors_but_cannot_apply_revert_or_correct(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    plan = await seed(live_server, admin, SEED, "A check", validate_only="true")
    done = await seed(live_server, admin, SEED, "An add")
    failed = await seed(live_server, admin, SEED.replace(",1,", ",9,"), "A failure")
    await sign_in(page, "viewer@example.org")

    await open_import(page, admin, plan)
    await expect(page.get_by_role("table", name="Planned changes")).to_contain_text("C-1")
    await expect(page.get_by_role("button", name="Apply this plan")).to_have_count(0)
    await open_import(page, admin, done)
    await expect(import_status(page)).to_contain_text("Completed")
    await expect(page.get_by_role("button", name="Revert", exact=True)).to_have_count(0)
    await open_import(page, admin, failed)
    await expect(page.get_by_role("table", name="Errors")).to_contain_text("case_status")
    await expect(page.get_by_role("button", name="Fix cells in place")).to_have_count(0)
