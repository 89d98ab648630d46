"""A checked run's page in the browser: its plan row by row (filterable), Apply this plan, a
stale plan that names the case changed and checks the file again through the API (at desktop
width and 360 px; a purged file offers a new check instead), a plan applied elsewhere shown
without a reload, and a refused page of changes."""

from __future__ import annotations

import re
import uuid
from datetime import date

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Locator, Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from tests.e2e.import_tools import (
    WIDTHS,
    at_width,
    expect_no_sideways_scroll,
    expect_within_width,
    finished,
    open_import,
    seed,
    shot,
)
from tests.e2e.ui import (
    ADD_HEADER,
    IMPORT_TIMEOUT,
    count_of,
    expect_result,
    import_status,
    sign_in,
    tab_shown_again,
)
from tests.factories import admin_setup
from tests.importing import case_fields
from worker.purge import purge_old_files

SEED = ADD_HEADER + "C-1,1,01/05/2024,Water leak\r\nC-2,1,02/06/2024,Broken light\r\n"
# Line 2 closes C-1, line 3 leaves C-2 alone, line 4 creates C-4.
PLAN = ADD_HEADER + "C-1,0,,\r\nC-2,1,02/06/2024,Broken light\r\nC-4,1,04/08/2024,Pothole\r\n"


def changes(page: Page) -> Locator:
    return page.get_by_role("table", name="Planned changes")


async def purged(settings: Settings, import_id: str) -> None:
    """The import's file stored (and last used) past the retention time, then purged by the
    worker's purge."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        old = (uuid.UUID(import_id), settings.file_retention_days + 1)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE files SET created_at = now() - make_interval(days => $2)
                   WHERE id = (SELECT file_id FROM imports WHERE id = $1)""",
                *old,
            )
            await conn.execute(
                """UPDATE import_files SET attached_at = now() - make_interval(days => $2)
                   WHERE file_id = (SELECT file_id FROM imports WHERE id = $1)""",
                *old,
            )
        await purge_old_files(pool, settings.file_retention_days)  # or the live worker's did
        assert await pool.fetchval(
            "SELECT purged_at FROM files WHERE id = (SELECT file_id FROM imports WHERE id = $1)",
            uuid.UUID(import_id),
        )
    finally:
        await pool.close()


@WIDTHS
async def test_a_checked_run_shows_its_plan_and_applying_it_makes_exactly_those_changes(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    plan = await seed(live_server, admin, PLAN, "April check", "cases.upsert", validate_only="true")
    assert plan["status"] == "completed", plan
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, plan)

    await expect(page.get_by_text("Nothing has been changed yet.")).to_be_visible()
    table = changes(page)
    update = table.get_by_role("row").filter(has_text="C-1")
    await expect(update).to_contain_text("Update")
    # Shown as "1 → 0", read as "1 changed to 0".
    await expect(update.get_by_role("cell", name="case_status: 1 changed to 0")).to_be_visible()
    create = table.get_by_role("row").filter(has_text="C-4")
    await expect(create).to_contain_text("Create")
    await expect(create).to_contain_text("about: Pothole")
    await expect(table.get_by_role("row").filter(has_text="C-2")).to_contain_text("Unchanged")
    apply = page.get_by_role("button", name="Apply this plan")
    await expect_within_width(page, apply)
    await expect_no_sideways_scroll(page)
    await shot(page, "plan", width)

    # Only the creates, then every row again.
    await page.get_by_role("combobox", name="Show").select_option(label="Creates")
    await expect(table.get_by_role("row").filter(has_text="C-1")).to_have_count(0)
    await expect(table.get_by_role("row").filter(has_text="C-4")).to_have_count(1)
    await page.get_by_role("combobox", name="Show").select_option(label="All rows")
    await expect(table.get_by_role("row").filter(has_text="C-1")).to_have_count(1)
    assert sorted(await case_fields(sessionmaker)) == ["C-1", "C-2"]  # checked, not applied

    await apply.click()
    await expect(page.get_by_role("heading", name="April check (applied)")).to_be_visible()
    await expect(import_status(page)).to_contain_text("Completed", timeout=IMPORT_TIMEOUT)
    await expect_result(page, rows=3, created=1, updated=1, unchanged=1, failed=0)
    await expect(page.get_by_role("link", name="April check", exact=True)).to_be_visible()
    cases = await case_fields(sessionmaker)
    assert sorted(cases) == ["C-1", "C-2", "C-4"]
    assert cases["C-1"][0] == 0
    assert cases["C-4"][:3] == (1, date(2024, 4, 8), "Pothole")

    # The plan now names the import that applied it and offers no second apply.
    await page.get_by_role("link", name="April check", exact=True).click()
    await expect(page.get_by_role("link", name="April check (applied)")).to_be_visible()
    await expect(page.get_by_role("button", name="Apply this plan")).to_have_count(0)


@WIDTHS
async def test_a_stale_plan_names_the_case_changed_and_checks_the_file_again(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    plan = await seed(live_server, admin, PLAN, "April check", "cases.upsert", validate_only="true")
    # C-1 changes after the check.
    edit = await seed(
        live_server, admin, "tag_id,about\r\nC-1,Leak fixed\r\n", "Edit", "cases.modify"
    )
    assert edit["status"] == "completed", edit
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, plan)

    await page.get_by_role("button", name="Apply this plan").click()
    stale = page.get_by_role("alert").filter(has_text="stale")
    await expect(stale).to_contain_text('case "C-1" (line 2) was changed')
    again = page.get_by_role("button", name="Check again")
    await expect_within_width(page, again)
    await expect_no_sideways_scroll(page)
    await shot(page, "plan-stale", width)
    assert (await case_fields(sessionmaker))["C-1"][2] == "Leak fixed"  # nothing applied

    # A new check of the same stored file, with the same type and options, made by the server:
    # nothing is downloaded or uploaded again by the browser.
    asked: list[tuple[str, str]] = []
    page.on("request", lambda request: asked.append((request.method, request.url)))
    await again.click()
    await expect(page.get_by_role("heading", name="April check (checked again)")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"#/apps/field-ops/imports/[0-9a-f-]+$"))
    base = f"/api/apps/{admin.slug}/imports"
    assert ("POST", f"{live_server}{base}/{plan['id']}/check-again") in asked
    assert not [url for method, url in asked if url.endswith("/file") or url.endswith(base)]
    await expect(page.get_by_role("button", name="Apply this plan")).to_be_visible(
        timeout=IMPORT_TIMEOUT
    )
    # A check of the same rows changed nothing: its counts say what it would do.
    await expect_result(page, rows=3, unchanged=1)
    await expect(count_of(page, "Would create")).to_have_text("1")
    await expect(count_of(page, "Would update")).to_have_text("1")
    table = changes(page)
    await expect(table.get_by_role("row").filter(has_text="C-1")).to_contain_text("Update")
    await expect(table.get_by_role("row").filter(has_text="C-4")).to_contain_text("Create")
    await expect(page.get_by_text("Checks again")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        made = await finished(client, admin, page.url.rsplit("/", 1)[-1])
    assert (made["checks_again"], made["file"]["sha256"], made["type"], made["validate_only"]) == (
        plan["id"],
        plan["file"]["sha256"],
        "cases.upsert",
        True,
    )

    # The stale plan names its new check.
    await page.get_by_role("link", name="April check", exact=True).click()
    await expect(page.get_by_text("Checked again by")).to_be_visible()
    await expect(page.get_by_role("link", name="April check (checked again)")).to_be_visible()


async def test_a_stale_plan_whose_file_was_purged_offers_a_new_check(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    e2e_settings: Settings,
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    plan = await seed(live_server, admin, PLAN, "April check", "cases.upsert", validate_only="true")
    await seed(live_server, admin, "tag_id,about\r\nC-1,Leak fixed\r\n", "Edit", "cases.modify")
    await purged(e2e_settings, plan["id"])
    await sign_in(page, admin.email)
    await open_import(page, admin, plan)

    await page.get_by_role("button", name="Apply this plan").click()
    await page.get_by_role("button", name="Check again").click()
    # The check again's own alert, under the stale plan's.
    stale = page.get_by_role("alert").filter(has_text="stale")
    refused = stale.get_by_role("alert")
    await expect(refused).to_contain_text(
        "The plan's file was deleted past the time files are kept; upload it again in a new check."
    )
    await expect(refused.get_by_role("link", name="Start a new check")).to_have_attribute(
        "href", f"#/apps/{admin.slug}/imports/new"
    )


async def test_a_plan_applied_elsewhere_says_so_without_a_reload(
    page: Page,
    context: BrowserContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    plan = await seed(live_server, admin, PLAN, "April check", "cases.upsert", validate_only="true")
    # A plan of a case no other plan touches, so that applying the first leaves it fresh.
    fresh = ADD_HEADER + "C-9,1,05/01/2024,Graffiti\r\n"
    other = await seed(live_server, admin, fresh, "May check", validate_only="true")
    await sign_in(page, admin.email)
    await open_import(page, admin, plan)
    await expect(page.get_by_role("button", name="Apply this plan")).to_be_visible()

    # Applied in another tab of the browser: this one follows at once.
    second = await context.new_page()
    await open_import(second, admin, plan)
    await second.get_by_role("button", name="Apply this plan").click()
    await expect(second.get_by_role("heading", name="April check (applied)")).to_be_visible()
    await expect(page.get_by_text("Applied by April check (applied)")).to_be_visible()
    await expect(page.get_by_role("button", name="Apply this plan")).to_have_count(0)
    await second.close()

    # Applied by a script while the user looked elsewhere: shown when they come back.
    await open_import(page, admin, other)
    await expect(page.get_by_role("button", name="Apply this plan")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        applied = await client.post(f"/api/apps/{admin.slug}/imports/{other['id']}/apply")
    assert applied.status_code == 201, applied.text
    await tab_shown_again(page)
    await expect(page.get_by_text("Applied by May check (applied)")).to_be_visible()
    await expect(page.get_by_role("button", name="Apply this plan")).to_have_count(0)

    # Checked again by a script: the link to the new check shows too.
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        again = await client.post(f"/api/apps/{admin.slug}/imports/{other['id']}/check-again")
        assert again.status_code == 201, again.text
        await tab_shown_again(page)
        await expect(page.get_by_text("Checked again by May check (checked again)")).to_be_visible()
        # The imports queued here end before the next test clears the database.
        for item in (await client.get(f"/api/apps/{admin.slug}/imports")).json()["items"]:
            await finished(client, admin, item["id"])


async def test_planned_changes_the_server_refuses_say_why(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, SEED, "Seed")
    plan = await seed(live_server, admin, PLAN, "April check", "cases.upsert", validate_only="true")
    await sign_in(page, admin.email)
    await open_import(page, admin, plan)
    await expect(changes(page).get_by_role("row").filter(has_text="C-4")).to_be_visible()

    # Access taken away since the page was drawn: the next page of changes is refused.
    async with sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM memberships"))
    await page.get_by_role("combobox", name="Show").select_option(label="Creates")
    await expect(
        page.get_by_role("region", name="Plan").get_by_role("alert").filter(has_text="access")
    ).to_have_text("There is no app 'field-ops', or you have no access to it.")
