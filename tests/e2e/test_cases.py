"""The cases dashboard: counts, search, status and date filters, sorting and paging."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.ui import ADD_HEADER, count_of, open_admin, row_of, seed_import, sign_in
from tests.factories import admin_setup


def _cases(count: int) -> str:
    """Cases C-001 … opened on consecutive days of January 2024; every third one closed."""
    rows = [
        f"C-{n:03},{0 if n % 3 == 0 else 1},01/{n:02}/2024,Case number {n} of the dashboard\r\n"
        for n in range(1, count + 1)
    ]
    return ADD_HEADER + "".join(rows)


async def _open_dashboard(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    """An admin of an app with the 30 cases of January, on its dashboard."""
    admin = await admin_setup(sessionmaker)
    await seed_import(live_server, admin, _cases(30), "January")
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")


async def test_the_dashboard_counts_filters_sorts_and_pages_the_cases(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    await _open_dashboard(page, sessionmaker, live_server)

    await expect(count_of(page, "Total")).to_have_text("30")
    await expect(count_of(page, "Active")).to_have_text("20")
    await expect(count_of(page, "Closed")).to_have_text("10")

    body_rows = page.get_by_role("table", name="Cases").locator("tbody tr")
    await expect(body_rows).to_have_count(25)
    await expect(page.get_by_role("combobox", name="Sort")).to_have_value("tag_id")
    await expect(body_rows.first).to_contain_text("C-001")
    await page.get_by_role("button", name="Next page").click()
    await expect(body_rows).to_have_count(5)
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    await page.get_by_role("button", name="Previous page").click()
    await expect(body_rows).to_have_count(25)

    await page.get_by_role("combobox", name="Sort").select_option(label="Tag ID, Z to A")
    await expect(body_rows.first).to_contain_text("C-030")
    await page.get_by_role("combobox", name="Sort").select_option(label="Date opened, oldest first")
    await expect(body_rows.first).to_contain_text("C-001")

    await page.get_by_role("combobox", name="Status").select_option(label="Closed")
    await expect(body_rows).to_have_count(10)
    await expect(body_rows.first).to_contain_text("C-003")

    await page.get_by_label("Opened from").fill("2024-01-10")
    await page.get_by_label("Opened to").fill("2024-01-20")
    await expect(body_rows).to_have_count(3)  # C-012, C-015 and C-018
    await page.get_by_role("searchbox", name="Search").fill("C-015")
    await expect(body_rows).to_have_count(1)
    await expect(row_of(page, "C-015")).to_contain_text("Case number 15 of the dashboard")


async def test_an_answer_overtaken_by_a_newer_filter_is_not_shown(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    await _open_dashboard(page, sessionmaker, live_server)
    body_rows = page.get_by_role("table", name="Cases").locator("tbody tr")
    await expect(body_rows).to_have_count(25)

    # A slow network: the answer for "from the 10th" comes back after the one for "10th to 20th".
    async def slow_without_end_date(route: Route) -> None:
        response = await route.fetch()
        if "opened_to" not in route.request.url:
            await asyncio.sleep(1.5)
        await route.fulfill(response=response)

    await page.route("**/cases?*", slow_without_end_date)
    await page.get_by_label("Opened from").fill("2024-01-10")
    await page.get_by_label("Opened to").fill("2024-01-20")
    await expect(body_rows).to_have_count(11)  # C-010 … C-020
    await page.wait_for_timeout(2000)  # the overtaken answer has arrived by now
    await expect(body_rows).to_have_count(11)
    await expect(body_rows.first).not_to_contain_text("C-030")
