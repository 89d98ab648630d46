"""Statuses that tell the truth, on the imports list and on the import page: a check-only run
says what it would do, a skip import that left rows out says how many, a reverted import says so,
types are named by their labels, an import's warnings are shown, and a failure on the header says
that rows are checked once it is fixed."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.scenes import every_kind, run_import
from tests.e2e.ui import ADD_HEADER, count_of, expect_import_page, sign_in, submit_sign_in
from tests.factories import admin_setup

HEADER_HINT = "Fix the header; then rows will be checked."


def import_row(page: Page, name: str) -> Locator:
    """The list's row of the import named exactly so ("Taken back", not "Revert of Taken back")."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def status_cell(page: Page, name: str) -> Locator:
    return import_row(page, name).get_by_role("cell").nth(2)


def type_cell(page: Page, name: str) -> Locator:
    return import_row(page, name).get_by_role("cell").nth(1)


async def colour(locator: Locator) -> str:
    return str(await locator.locator(".status").evaluate("e => getComputedStyle(e).color"))


async def open_import(page: Page, item: dict[str, Any]) -> None:
    await page.goto(f"/#/apps/field-ops/imports/{item['id']}")
    await expect(page.get_by_role("heading", name=item["name"], exact=True)).to_be_visible()


async def test_the_list_tells_checked_partial_and_reverted_imports_from_completed_ones(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    scene = await every_kind(live_server, admin)
    await sign_in(page, admin.email)
    await page.goto("/#/apps/field-ops/imports")

    expected = {
        scene.completed["name"]: "✔Completed",
        scene.checked["name"]: "◎Checked: would create 2, update 0",
        scene.skipped["name"]: "⚠Completed with 3 failed rows",
        scene.all_failed["name"]: "⚠Completed with 5 failed rows",
        scene.reverted["name"]: "↺Reverted",
        scene.revert["name"]: "✔Completed",
    }
    for name, text in expected.items():
        await expect(status_cell(page, name)).to_have_text(text)
    # A failed import's cell holds its tooltip besides.
    await expect(status_cell(page, scene.failed["name"])).to_have_text(re.compile("^✖Failed"))

    # A check-only run and rows left out are never drawn in the success colour.
    success = await colour(status_cell(page, scene.completed["name"]))
    for name in (scene.checked["name"], scene.skipped["name"], scene.all_failed["name"]):
        assert await colour(status_cell(page, name)) != success, name
    assert await colour(status_cell(page, scene.skipped["name"])) != await colour(
        status_cell(page, scene.checked["name"])
    )

    # Types by their labels; a revert is not a type of the catalog, and is still named.
    await expect(type_cell(page, scene.completed["name"])).to_have_text("Add cases")
    await expect(type_cell(page, scene.revert["name"])).to_have_text("Revert")
    await expect(page.get_by_role("table", name="Imports")).not_to_contain_text("cases.add")


async def test_a_checked_run_says_what_it_would_do_and_changes_nothing(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    checked = await run_import(
        live_server,
        admin,
        ADD_HEADER + "C-1,1,01/13/2024,A new case\r\nC-2,0,01/14/2024,Another new case\r\n",
        "Dry run",
        validate_only=True,
    )
    await sign_in(page, admin.email)
    await open_import(page, checked)
    await expect_import_page(page, "Dry run", "Checked: would create 2, update 0")
    await expect(page.get_by_text("Add cases · created")).to_be_visible()
    await expect(count_of(page, "Would create")).to_have_text("2")
    await expect(count_of(page, "Would update")).to_have_text("0")
    await expect(count_of(page, "Created")).to_have_count(0)
    await expect(page.get_by_label("Reconciliation")).to_contain_text(
        "2 rows read = 2 to create + 0 to update + 0 unchanged + 0 failed"
    )
    await page.get_by_role("tab", name="Cases").click()
    await expect(count_of(page, "Total")).to_have_text("0")


async def test_import_pages_of_skipped_reverted_and_revert_imports(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    scene = await every_kind(live_server, admin)
    await sign_in(page, admin.email)

    await open_import(page, scene.all_failed)
    await expect_import_page(page, "All skipped", "Completed with 5 failed rows")
    await expect(count_of(page, "Created")).to_have_text("0")

    await open_import(page, scene.reverted)
    await expect_import_page(page, "Taken back", "Reverted")
    await page.get_by_role("link", name=scene.revert["name"]).click()  # "Reverted by ..."
    await expect_import_page(page, scene.revert["name"], "Completed")
    await expect(page.get_by_text("Revert · created")).to_be_visible()
    await expect(count_of(page, "Deleted")).to_have_text("2")
    await page.get_by_role("link", name="Taken back", exact=True).click()  # "Reverts ..."
    await expect(page.get_by_role("heading", name="Taken back", exact=True)).to_be_visible()


async def test_the_import_page_shows_the_imports_warnings(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    # Windows-1252 text, and a slash date that reads either way.
    content = ADD_HEADER + "W-1,1,01/02/2024,Año nuevo: reclamación por daños\r\n"
    done = await run_import(live_server, admin, content.encode("cp1252"), "Old program")
    assert {w["code"] for w in done["warnings"]} == {"dates_ambiguous", "encoding_guessed"}, done
    await sign_in(page, admin.email)
    await open_import(page, done)
    warnings = page.get_by_role("note", name="Warnings")
    await expect(warnings.get_by_role("listitem")).to_have_count(2)
    await expect(warnings).to_contain_text("1 date was read month first (mm/dd/yyyy)")
    await expect(warnings).to_contain_text("The file is not UTF-8: it was read as")
    await expect(warnings).to_contain_text("Año nuevo: reclamación por daños")


async def test_a_header_failure_says_that_rows_are_checked_once_the_header_is_fixed(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    scene = await every_kind(live_server, admin)
    await sign_in(page, admin.email)
    await open_import(page, scene.header)
    await expect_import_page(page, "Extra column", "Failed")
    await expect(page.get_by_text(HEADER_HINT)).to_be_visible()
    # Errors of the rows need no such word.
    await open_import(page, scene.failed)
    await expect(page.get_by_role("table", name="Errors").locator("tbody tr")).to_have_count(3)
    await expect(page.get_by_text(HEADER_HINT)).to_have_count(0)


# Records every text the SPA ever puts in <main>, from the first script of each document on.
RECORD_TEXTS = """
window.__texts = [];
new MutationObserver(() => {
  const main = document.getElementById("main");
  if (main) window.__texts.push(main.innerText);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


async def test_types_are_labelled_from_the_first_draw_after_the_sign_in_redirect(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    scene = await every_kind(live_server, admin)
    await page.add_init_script(RECORD_TEXTS)
    # A link opened while signed out: sign-in first, then the page it named.
    await page.goto("/#/apps/field-ops/imports")
    await expect(page).to_have_url(f"{live_server}/#/signin")
    await submit_sign_in(page, admin.email)
    await expect(type_cell(page, scene.completed["name"])).to_have_text("Add cases")
    await page.goto(f"/#/apps/field-ops/imports/{scene.checked['id']}")
    await expect(page.get_by_text("Add cases · created")).to_be_visible()
    texts: list[str] = await page.evaluate("window.__texts")
    assert texts, "nothing recorded"
    assert not [t for t in texts if "cases.add" in t or "revert ·" in t], texts
