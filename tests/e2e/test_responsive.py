"""Every page from a 360 px phone to a desktop: nothing scrolls sideways, nothing sticks out of
the window, and each row's actions (View, Revoke, ...) can be seen and clicked where they are.

With ``E2E_SCREENSHOTS`` set to a folder, the walk also saves the pictures of the imports list
and of an import page that the README shows (``docs/screenshots/``)."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.import_tools import save_shot
from tests.e2e.scenes import every_kind, run_import
from tests.e2e.ui import ADD_HEADER, expect_fits, sign_in
from tests.factories import admin_setup

WIDTHS = [360, 768, 1280]
# The widths the README shows pictures of.
README_WIDTHS = (360, 1280)

# Whether a click on the element lands on it: it is in the window, not cut off by a box around
# it, nor covered (tried at the middle of its first line box).
CLICKABLE = """
(el) => {
  const r = el.getBoundingClientRect();
  const line = el.getClientRects()[0];
  const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
  return r.left >= 0 && r.right <= document.documentElement.clientWidth && el.contains(hit);
}
"""

# One case whose description has no space to break at, as pasted links do.
UNBROKEN = ADD_HEADER + "L-1,1,01/13/2024," + "https://example.org/" + "x" * 150 + "\r\n"


async def expect_clickable(actions: Locator, where: str, at_least: int = 1) -> None:
    await expect(actions.nth(at_least - 1)).to_be_attached()
    count = await actions.count()
    assert count >= at_least, f"{where}: {count} actions"
    for n in range(count):
        action = actions.nth(n)
        await action.scroll_into_view_if_needed()
        await expect(action).to_be_visible()
        assert await action.evaluate(CLICKABLE), f"{where}: action {n} cannot be clicked"


@pytest.mark.parametrize("width", WIDTHS)
async def test_every_page_fits_the_width_and_keeps_its_actions_in_reach(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    scene = await every_kind(live_server, admin)
    await run_import(live_server, admin, UNBROKEN, "A pasted link")
    await page.set_viewport_size({"width": width, "height": 800})
    base = "/#/apps/field-ops"

    await page.goto("/#/signin")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect_fits(page, "sign-in")
    await sign_in(page, admin.email)
    await expect_fits(page, "apps")
    await expect_clickable(page.get_by_role("link", name="ADMIN Field Ops"), "apps")

    await page.goto(f"{base}/imports")
    imports = page.get_by_role("table", name="Imports")
    await expect(imports.locator("tbody tr")).to_have_count(9)
    await expect_fits(page, "imports")
    await expect_clickable(imports.get_by_role("link", name="View"), "imports", at_least=9)
    await expect_clickable(page.get_by_role("button", name="NEW"), "imports")
    if width in README_WIDTHS:
        await save_shot(page, f"imports-{width}.png", whole=False)

    await page.goto(f"{base}/imports/{scene.completed['id']}")
    await expect(page.get_by_label("Reconciliation")).to_be_visible()
    await expect_fits(page, "completed import")

    await page.goto(f"{base}/imports/{scene.failed['id']}")
    errors = page.get_by_role("table", name="Errors")
    await expect(errors.locator("tbody tr")).to_have_count(3)
    await expect_fits(page, "failed import")
    await expect_clickable(page.get_by_role("button", name="Upload", exact=True), "failed import")
    await expect_clickable(page.get_by_role("link", name="Download errors (CSV)"), "failed import")
    if width in README_WIDTHS:
        await save_shot(page, f"import-failed-{width}.png", whole=width < 700)

    await page.goto(f"{base}/imports/new")
    await expect(page.get_by_role("heading", name="Add Imports")).to_be_visible()
    await page.get_by_role("combobox", name="Type").select_option(label="Add cases")
    await page.get_by_text("More options").click()
    await expect_fits(page, "new import")
    await expect_clickable(page.get_by_role("button", name="SAVE"), "new import")

    await page.goto(f"{base}/cases")
    cases = page.get_by_role("table", name="Cases")
    await expect(cases.get_by_text("L-1", exact=True)).to_be_visible()
    await expect_fits(page, "cases")
    await expect_clickable(cases.get_by_role("link", name="View import"), "cases", at_least=2)
    await expect_clickable(page.get_by_role("button", name="Next page"), "cases")

    await page.goto(f"{base}/tokens")
    await page.get_by_role("textbox", name="Token name").fill("Nightly pipeline on the builder")
    await page.get_by_role("button", name="Create token").click()
    await expect(page.get_by_role("textbox", name="New token")).to_be_visible()
    tokens = page.get_by_role("table", name="API tokens")
    await expect(tokens.locator("tbody tr")).to_have_count(2)  # and the admin's own
    await expect_fits(page, "tokens")
    await expect_clickable(tokens.get_by_role("button", name="Revoke"), "tokens", at_least=2)
    await expect_clickable(page.get_by_role("button", name="Copy"), "tokens")
