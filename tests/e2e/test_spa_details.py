"""Small things a user notices: the Failed tooltip shown whole, the new token shown whole with a
Copy button of its own size, the Upload button level with its file picker, a header that keeps
its height, a sign-in form drawn once (so a typed email stays), and a link to the API docs."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, FloatRect, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.scenes import mixed, run_import
from tests.e2e.ui import (
    expect_copy_copies,
    expect_secret_shown_whole,
    row_of,
    sign_in,
    submit_sign_in,
)
from tests.factories import admin_setup

# Whether the element is drawn whole: inside the window, and its corners not covered or cut off
# by a box around it.
DRAWN_WHOLE = """
(el) => {
  const r = el.getBoundingClientRect();
  const inside = (x, y) => el.contains(document.elementFromPoint(x, y));
  return r.left >= 0 && r.right <= document.documentElement.clientWidth
    && inside(r.left + 4, r.top + 4) && inside(r.right - 4, r.bottom - 4)
    && inside(r.left + 4, r.bottom - 4);
}
"""

# Counts the sign-in forms put on the page (a form holding a password box), from the first
# script of each document on.
COUNT_FORMS = """
window.__forms = 0;
new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (node.querySelector && node.querySelector("input[type=password]")) window.__forms += 1;
    }
  }
}).observe(document, { subtree: true, childList: true });
"""


def centre_y(box: FloatRect | None) -> float:
    assert box is not None
    return box["y"] + box["height"] / 2


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_failed_tooltip_is_shown_whole_below_the_last_row(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str, width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    # The only row, so its tooltip reaches past the table's bottom edge.
    failed = await run_import(live_server, admin, mixed("T"), "Broken dates")
    await page.set_viewport_size({"width": width, "height": 800})
    await sign_in(page, admin.email)
    await page.goto("/#/apps/field-ops/imports")
    row = row_of(page, "Broken dates")
    tooltip = row.get_by_role("tooltip")
    await expect(tooltip).to_be_hidden()
    await row.get_by_text("Failed", exact=True).hover()
    await expect(tooltip).to_be_visible()
    await expect(tooltip).to_have_text(failed["error"]["summary"])
    assert await tooltip.evaluate(DRAWN_WHOLE)


@pytest.mark.parametrize("width", [360, 1280])
async def test_a_new_token_shows_whole_with_a_copy_button_beside_it(
    page: Page, context: BrowserContext, sessionmaker: async_sessionmaker[AsyncSession], width: int
) -> None:
    admin = await admin_setup(sessionmaker)
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    await page.set_viewport_size({"width": width, "height": 800})
    await sign_in(page, admin.email)
    await page.goto("/#/apps/field-ops/tokens")
    await page.get_by_role("textbox", name="Token name").fill("CI")
    await page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="New token")
    await expect(secret).to_be_focused()
    value = await secret.input_value()
    assert value.startswith("cit_"), value
    await expect_secret_shown_whole(secret)
    copy = await page.get_by_role("button", name="Copy").bounding_box()
    box = await secret.bounding_box()
    assert copy is not None
    assert box is not None
    assert copy["width"] < 120, copy
    if width > 600:  # beside the token on a wide screen
        assert abs(copy["y"] - box["y"]) < 2, (copy, box)
    await expect_copy_copies(page, secret)


async def test_the_upload_button_is_level_with_the_file_picker(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await run_import(live_server, admin, mixed("T"), "Broken dates")
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/field-ops/imports/{failed['id']}")
    upload = page.get_by_role("button", name="Upload", exact=True)
    await expect(upload).to_be_visible()
    picker = await page.get_by_role("button", name="Choose file").bounding_box()
    assert abs(centre_y(await upload.bounding_box()) - centre_y(picker)) < 2


def banner(page: Page) -> Locator:
    return page.get_by_role("banner")


@pytest.mark.parametrize("width", [360, 1280])
async def test_the_header_keeps_its_height_after_sign_in(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], width: int
) -> None:
    admin = await admin_setup(sessionmaker, email="a.rather-long.address@field-operations.example")
    await page.set_viewport_size({"width": width, "height": 800})
    await page.goto("/#/signin")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    before = await banner(page).bounding_box()
    await sign_in(page, admin.email)
    await expect(banner(page).get_by_role("button", name="Sign out")).to_be_visible()
    after = await banner(page).bounding_box()
    assert before is not None
    assert after is not None
    assert after["height"] == before["height"], (before, after)
    await expect(banner(page).get_by_role("button", name="Sign out")).to_be_in_viewport(ratio=1)


async def test_the_sign_in_form_is_drawn_once_and_keeps_a_typed_email(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await page.add_init_script(COUNT_FORMS)
    # Signed out, a link to a page leads to the sign-in form, drawn once.
    await page.goto("/#/apps/field-ops/imports")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    assert await page.evaluate("window.__forms") == 1

    await submit_sign_in(page, admin.email)
    await expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    await page.evaluate("window.__forms = 0")
    await page.get_by_role("button", name="Sign out").click()
    # Typed at once, before anything settles: a second drawing would wipe it.
    email = page.get_by_role("textbox", name="Email")
    await email.fill("someone@example.org")
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(200)
    await expect(email).to_have_value("someone@example.org")
    assert await page.evaluate("window.__forms") == 1


async def test_a_link_to_the_api_docs_on_every_page(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    docs = page.get_by_role("link", name="API docs")
    await page.goto("/#/signin")
    await expect(docs).to_have_attribute("href", "/api/docs")
    await sign_in(page, admin.email)
    await expect(docs).to_be_visible()
    response = await page.request.get("/api/docs")
    assert response.status == 200
    assert "swagger" in (await response.text()).lower()
