"""The rest of the API in the SPA: the upload's options under More options, an import's errors
grouped by cause and its downloads, a case's page with its history, and the app's audit log
for admins. At desktop width and 360 px where a page is new."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.import_tools import (
    WIDTHS,
    at_width,
    expect_within_width,
    finished,
    open_import,
    seed,
    shot,
)
from tests.e2e.ui import (
    ADD_HEADER,
    expect_admins_only,
    expect_fits,
    expect_import_page,
    expect_result,
    open_admin,
    open_imports,
    sign_in,
)
from tests.factories import AdminSetup, admin_setup, make_member, make_user

# Two bad dates and a bad status: two causes, the dates the more frequent.
BAD_ROWS = (
    ADD_HEADER
    + "E-1,1,02/30/2024,One\r\n"
    + "E-2,9,01/05/2024,Two\r\n"
    + "E-3,1,13/13/2024,Three\r\n"
)


async def _get(live_server: str, admin: AdminSetup, path: str) -> Any:
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        return (await client.get(f"/api/apps/{admin.slug}{path}")).raise_for_status().json()


async def test_the_more_options_reach_the_api(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    # Windows-1252 and day-first dates: "é" is one byte, 28/11 only reads day first.
    file = tmp_path / "uk.csv"
    file.write_bytes((ADD_HEADER + "O-1,1,28/11/2023,Café closed\r\n").encode("cp1252"))
    await page.goto(f"/#/apps/{admin.slug}/imports/new")
    await page.get_by_role("textbox", name="Name").fill("Options")
    await page.get_by_role("combobox", name="Type").select_option(label="Add cases")
    await page.get_by_label("File", exact=True).set_input_files(file)
    await page.get_by_text("More options").click()
    await page.get_by_role("combobox", name="Date order").select_option(
        label="Day first (dd/mm/yyyy)"
    )
    await page.get_by_role("combobox", name="Encoding").select_option(
        label="Windows-1252 (Excel on Windows)"
    )
    await page.get_by_role("button", name="SAVE").click()

    await expect_import_page(page, "Options", "Completed")
    await expect_result(page, rows=1, created=1, failed=0)
    await expect(
        page.get_by_text("dates day first · read as cp1252, delimiter comma")
    ).to_be_visible()
    # One row read: said in the singular.
    await expect(page.get_by_label("Reconciliation")).to_contain_text(
        "1 row read = 1 created + 0 updated + 0 unchanged + 0 failed; 0 blank rows skipped"
    )
    items = (await _get(live_server, admin, "/imports"))["items"]
    assert [(i["date_order"], i["encoding"], i["sheet"]) for i in items] == [
        ("dmy", "cp1252", None)
    ]
    case = await _get(live_server, admin, "/cases/O-1")
    assert (case["date_opened"], case["about"]) == ("2023-11-28", "Café closed")


@WIDTHS
async def test_errors_grouped_by_cause_and_the_downloads_that_apply(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    tmp_path: Path,
    width: int,
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await seed(live_server, admin, BAD_ROWS, "Bad rows")
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_import(page, admin, failed)

    groups = page.get_by_role("region", name="Errors by cause")
    await expect(groups.get_by_role("listitem")).to_have_count(2)
    first, second = groups.get_by_role("listitem").nth(0), groups.get_by_role("listitem").nth(1)
    await expect(first).to_contain_text("2 × date_opened (invalid_date), first on line 2")
    await expect(first).to_contain_text('date_opened "02/30/2024"')
    await expect(second).to_contain_text("1 × case_status (invalid_status), first on line 3")
    # Above the table that lists them one by one.
    table = page.get_by_role("table", name="Errors")
    above, below = await groups.bounding_box(), await table.bounding_box()
    assert above is not None
    assert below is not None
    assert above["y"] < below["y"]

    downloads = page.get_by_role("navigation", name="Downloads")
    await expect(downloads.get_by_role("link")).to_have_text(
        [
            "Download the uploaded file (cases.csv)",
            "Download errors (CSV)",
            "Download failed rows to fix (CSV)",
        ]
    )
    for link in await downloads.get_by_role("link").all():
        await expect_within_width(page, link)
    await expect_fits(page, f"{width} px")
    async with page.expect_download() as downloading:
        await downloads.get_by_role("link", name="Download the uploaded file (cases.csv)").click()
    saved = tmp_path / "uploaded.csv"
    await (await downloading.value).save_as(saved)
    assert saved.read_bytes() == BAD_ROWS.encode()
    async with page.expect_download() as downloading:
        await downloads.get_by_role("link", name="Download failed rows to fix (CSV)").click()
    rows_file = tmp_path / "failed-rows.csv"
    await (await downloading.value).save_as(rows_file)
    assert "E-3,1,13/13/2024,Three" in rows_file.read_text(encoding="utf-8-sig")

    # A completed import offers its file only; a header that stops the file, no failed rows.
    done = await seed(live_server, admin, ADD_HEADER + "G-1,1,01/05/2024,Good\r\n", "Good rows")
    await open_import(page, admin, done)
    await expect(page.get_by_role("navigation", name="Downloads").get_by_role("link")).to_have_text(
        ["Download the uploaded file (cases.csv)"]
    )
    await expect(page.get_by_role("region", name="Errors by cause")).to_have_count(0)
    header = await seed(live_server, admin, "tag_id,colour\r\nH-1,red\r\n", "Bad header")
    await open_import(page, admin, header)
    await expect(page.get_by_role("region", name="Errors by cause")).to_contain_text("colour")
    await expect(page.get_by_role("navigation", name="Downloads").get_by_role("link")).to_have_text(
        ["Download the uploaded file (cases.csv)", "Download errors (CSV)"]
    )


async def test_errors_by_cause_the_server_refuses_say_why(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await seed(live_server, admin, BAD_ROWS, "Bad rows")
    problem = {
        "title": "Service Unavailable",
        "status": 503,
        "code": "unavailable",
        "detail": "The service is restarting; try again in a moment.",
    }

    # A proxy's refusal of that one request (outside the SPA); the errors still list.
    async def refuse(route: Route) -> None:
        await route.fulfill(
            status=503, content_type="application/problem+json", body=json.dumps(problem)
        )

    await page.route("**/errors/summary", refuse)
    await sign_in(page, admin.email)
    await open_import(page, admin, failed)
    groups = page.get_by_role("region", name="Errors by cause")
    await expect(groups.get_by_role("alert")).to_contain_text(
        "The errors by cause cannot be shown: The service is restarting; try again in a moment."
    )
    await expect(page.get_by_role("table", name="Errors").get_by_role("row")).to_have_count(4)


async def test_a_viewer_is_offered_no_uploaded_file(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await seed(live_server, admin, BAD_ROWS, "Bad rows")
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    await sign_in(page, "viewer@example.org")
    await open_import(page, admin, failed)
    await expect(page.get_by_role("navigation", name="Downloads").get_by_role("link")).to_have_text(
        ["Download errors (CSV)", "Download failed rows to fix (CSV)"]
    )
    await expect(page.get_by_role("region", name="Errors by cause")).to_be_visible()


@WIDTHS
async def test_a_case_page_shows_its_history_from_the_cases_list(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, ADD_HEADER + "C-1,1,01/05/2024,Water leak\r\n", "First intake")
    await seed(live_server, admin, "tag_id,about\r\nC-1,Leak fixed\r\n", "Repairs", "cases.modify")
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")

    await (
        page.get_by_role("table", name="Cases").get_by_role("link", name="C-1", exact=True).click()
    )
    await expect(page).to_have_url(re.compile(r"#/apps/field-ops/cases/C-1$"))
    await expect(page.get_by_role("heading", name="C-1", exact=True)).to_be_visible()
    await expect(page.get_by_role("definition").filter(has_text="Leak fixed")).to_be_visible()
    history = (
        page.get_by_role("region", name="History")
        .get_by_role("listitem")
        .filter(has=page.locator(".history-what"))
    )
    await expect(history).to_have_count(2)
    # Newest first: the modify's change as old → new, then the create's values.
    await expect(history.nth(0)).to_contain_text("Changed by Repairs")
    await expect(history.nth(0)).to_contain_text("Modify cases")
    await expect(history.nth(0)).to_contain_text("line 2")
    await expect(history.nth(0).get_by_role("deletion")).to_have_text("Water leak")
    await expect(history.nth(0).get_by_role("insertion")).to_have_text("Leak fixed")
    await expect(history.nth(1)).to_contain_text("Created by First intake")
    await expect(history.nth(1)).to_contain_text("date_opened: 2024-01-05")
    await expect_fits(page, f"{width} px")
    await shot(page, "case-history", width)

    await history.nth(1).get_by_role("link", name="First intake").click()
    await expect(page.get_by_role("heading", name="First intake", exact=True)).to_be_visible()


async def test_a_revert_in_a_case_history_is_named_by_its_label(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(live_server, admin, ADD_HEADER + "C-1,1,01/05/2024,Water leak\r\n", "First intake")
    edit = await seed(
        live_server, admin, "tag_id,about\r\nC-1,Leak fixed\r\n", "Repairs", "cases.modify"
    )
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        reverted = await client.post(f"/api/apps/{admin.slug}/imports/{edit['id']}/revert")
        assert reverted.status_code == 201, reverted.text
        await finished(client, admin, reverted.json()["id"])
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/{admin.slug}/cases/C-1")

    history = page.get_by_role("region", name="History").get_by_role("listitem")
    undone = history.filter(has_text="Changed by Revert of Repairs")
    await expect(undone).to_contain_text(f"{admin.email} · Revert · line 2")
    await expect(undone).not_to_contain_text("revert ·")
    await expect(history.filter(has_text="Changed by Repairs")).to_contain_text("Modify cases")


async def test_a_case_a_revert_deleted_is_said_to_be_gone(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    added = await seed(live_server, admin, ADD_HEADER + "D-1,1,01/05/2024,Gone soon\r\n", "Added")
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        reverted = await client.post(f"/api/apps/{admin.slug}/imports/{added['id']}/revert")
        assert reverted.status_code in (200, 201, 202), reverted.text
        revert_id = reverted.json()["id"]
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/{admin.slug}/imports/{revert_id}")
    await expect_import_page(page, "Revert of Added", "Completed")
    await page.goto(f"/#/apps/{admin.slug}/cases/D-1")
    await expect(page.get_by_role("status")).to_have_text("There is no case with this Tag ID now.")
    history = page.get_by_role("region", name="History")
    await expect(history.get_by_role("listitem")).to_have_count(0)
    await expect(history).to_have_text("History")


@WIDTHS
async def test_the_audit_log_is_a_page_for_admins_paged_and_filtered(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        for n in range(1, 52):
            made = await client.post(
                f"/api/apps/{admin.slug}/imports", data={"name": f"Draft {n}", "type": "cases.add"}
            )
            assert made.status_code == 201, made.text
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    await page.get_by_role("link", name="AUDIT LOG").click()

    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.get_by_role("table", name="Audit log").locator("tbody tr")
    await expect(rows).to_have_count(50)
    # Newest first, who did it and through which token.
    newest = rows.first
    await expect(newest).to_contain_text("Import created")
    await expect(newest).to_contain_text(admin.email)
    prefix = "_".join(admin.token.split("_")[:2])
    await expect(newest).to_contain_text(f"token {prefix}")
    await expect(newest.get_by_role("link", name="Draft 51")).to_be_visible()
    await expect_fits(page, f"{width} px")

    await page.get_by_role("button", name="Next page").click()
    await expect(page.get_by_text("Page 2")).to_be_visible()
    await expect(rows.first).to_contain_text("Draft 1")
    await page.get_by_role("button", name="Previous page").click()
    await expect(rows.first).to_contain_text("Draft 51")

    await page.get_by_role("combobox", name="Action").select_option(label="Token created")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Token created")
    await expect(rows.first).to_contain_text("command line")
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()

    await page.get_by_role("combobox", name="Action").select_option(label="All actions")
    await expect(rows).to_have_count(50)
    await rows.first.get_by_role("link", name="Draft 51").click()
    await expect(page.get_by_role("heading", name="Draft 51", exact=True)).to_be_visible()


async def test_a_viewer_has_no_audit_log(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    await sign_in(page, "viewer@example.org")
    await open_admin(page, "Field Ops")
    await open_imports(page)
    await expect_admins_only(page, admin.slug, "AUDIT LOG", "audit")
