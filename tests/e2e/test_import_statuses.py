"""What the SPA shows of an import's status comes from the API: the words and signs of
``GET /api/import-statuses``, its groups (what can be cancelled, what takes a file, what has
failed), and the errors page's count of kept errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.imports.status import ImportStatus
from tests.e2e.conftest import KEPT_ERRORS, LiveWorker
from tests.e2e.ui import (
    ADD_HEADER,
    expect_import_page,
    open_admin,
    open_imports,
    queue_import,
    row_of,
    seed_import,
    served_statuses,
    sign_in,
)
from tests.factories import admin_setup

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
GOOD = ADD_HEADER + "G-1,1,01/02/2024,A good row\r\n"


async def serve_statuses(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    """This page is served the API's statuses, each changed by ``change`` on the way."""

    async def changed(route: Route) -> None:
        response = await route.fetch()
        statuses = await response.json()
        for status in statuses:
            change(status)
        await route.fulfill(response=response, json=statuses)

    await page.route("**/api/import-statuses", changed)


def status_cell(page: Page, name: str) -> Locator:
    return row_of(page, name).get_by_role("cell").nth(2)


def cancel_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Cancel import")


async def test_badges_show_the_labels_and_symbols_the_api_serves(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await seed_import(live_server, admin, GOOD, "Done import")
    await queue_import(live_server, admin, None, "Draft import")
    served = await served_statuses(live_server, admin)

    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    for name, key in [("Done import", "completed"), ("Draft import", "draft")]:
        await expect(status_cell(page, name)).to_have_text(
            served[key]["symbol"] + served[key]["label"]
        )

    # Other words and signs served: the SPA shows those, it has none of its own.
    reworded = {"completed": ("★", "All done"), "draft": ("…", "Not sent yet")}

    def reword(status: dict[str, Any]) -> None:
        status["symbol"], status["label"] = reworded.get(status["key"], ("?", "Unexpected"))

    other = await page.context.new_page()
    await serve_statuses(other, reword)
    await other.goto("/#/apps/field-ops/imports")
    await expect(status_cell(other, "Done import")).to_have_text("★All done")
    await expect(status_cell(other, "Draft import")).to_have_text("…Not sent yet")
    await other.goto(f"/#/apps/field-ops/imports/{done['id']}")
    await expect_import_page(other, "Done import", "All done")


async def test_cancel_shows_only_for_what_the_api_calls_cancellable(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    live_worker: LiveWorker,
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await seed_import(live_server, admin, GOOD, "Done import")
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/field-ops/imports/{done['id']}")
    await expect_import_page(page, "Done import", "Completed")
    await expect(cancel_button(page)).to_have_count(0)

    async with live_worker.paused():
        waiting = await queue_import(live_server, admin, GOOD, "Waiting import")
        # Served as not cancellable, a queued import has no Cancel button.
        other = await page.context.new_page()
        await serve_statuses(other, lambda status: status.update(cancellable=False))
        await other.goto(f"/#/apps/field-ops/imports/{waiting}")
        await expect_import_page(other, "Waiting import", "Queued")
        await expect(cancel_button(other)).to_have_count(0)
        await other.close()

        await page.goto(f"/#/apps/field-ops/imports/{waiting}")
        await expect_import_page(page, "Waiting import", "Queued")
        await cancel_button(page).click()
        await expect_import_page(page, "Waiting import", "Cancelled")
        await expect(cancel_button(page)).to_have_count(0)


async def test_skipped_rows_are_listed_without_the_failed_tooltip_or_an_upload(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    content = GOOD + "G-2,1,02/30/2024,A bad date\r\n"
    done = await seed_import(live_server, admin, content, "Skipping import", on_error="skip")
    assert (done["status"], done["error"]["error_count"]) == ("completed", 1), done

    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    row = row_of(page, "Skipping import")
    await expect(row).to_contain_text("Completed")
    await expect(row.get_by_role("tooltip")).to_have_count(0)

    await row.get_by_role("link", name="View Skipping import").click()
    await expect_import_page(page, "Skipping import", "Completed")
    await expect(page.get_by_role("table", name="Errors").locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_text("Upload corrected file")).to_have_count(0)
    await expect(page.get_by_role("button", name="Upload", exact=True)).to_have_count(0)
    await expect(page.get_by_text(re.compile(r"errors are listed"))).to_have_count(0)


async def test_the_errors_page_tells_the_apis_kept_limit_and_pages_the_kept_errors(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    count = KEPT_ERRORS + 10
    bad = ADD_HEADER + "".join(
        f"B-{n:03},1,02/30/2024,Row {n} has a day its month does not have\r\n"
        for n in range(1, count + 1)
    )
    failed = await seed_import(live_server, admin, bad, "Many errors")
    assert (failed["status"], failed["error"]["error_count"]) == ("failed", count), failed

    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/field-ops/imports/{failed['id']}")
    await expect_import_page(page, "Many errors", "Failed")
    await expect(
        page.get_by_text(
            f"The first {KEPT_ERRORS} errors are listed; {count} errors on {count} rows in all.",
            exact=True,
        )
    ).to_be_visible()

    rows = page.get_by_role("table", name="Errors").locator("tbody tr")
    previous = page.get_by_role("button", name="Previous page")
    following = page.get_by_role("button", name="Next page")
    await expect(rows).to_have_count(50)
    await expect(rows.first.get_by_role("cell").first).to_have_text("2")  # line 1: the header
    await expect(previous).to_be_disabled()
    await following.click()
    await expect(rows).to_have_count(KEPT_ERRORS - 50)
    await expect(rows.first.get_by_role("cell").first).to_have_text("52")
    await expect(following).to_be_disabled()
    await previous.click()
    await expect(rows).to_have_count(50)
    await expect(rows.first.get_by_role("cell").first).to_have_text("2")
    await expect(previous).to_be_disabled()


async def test_the_spa_spells_no_status_word() -> None:
    """Every word of a status comes from the API; a class name built from its key is fine."""
    words = "|".join(status.value for status in ImportStatus)
    literal = re.compile(rf"""(['"`])({words})\1""")
    hits = [
        f"{path.relative_to(FRONTEND)}:{number}: {line.strip()}"
        for path in sorted(FRONTEND.rglob("*"))
        if path.suffix in {".js", ".html"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert not hits, hits
