"""What the browser tests do through the SPA (by accessible names, as frontend/CONTRACT.md lists
them), and the few things they set up through the HTTP API instead."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from tests.factories import PASSWORD, AdminSetup

# How long an import may take to reach its end by itself (the worker polls Redis).
IMPORT_TIMEOUT = 15_000

ADD_HEADER = "tag_id,case_status,date_opened,about\r\n"
TERMINAL = frozenset({"completed", "failed", "cancelled"})


async def submit_sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    if not page.url.endswith("#/signin"):
        await page.goto("/#/signin")
    # The SPA may draw the form twice while it learns that nobody is signed in (the redirect
    # from another page): typing before it settles can be wiped.
    await page.wait_for_load_state("networkidle")
    await page.get_by_role("textbox", name="Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form; answers once the Apps page shows."""
    await submit_sign_in(page, email, password)
    await expect(apps_heading(page)).to_be_visible()


def apps_heading(page: Page) -> Locator:
    return page.get_by_role("heading", name="Apps", exact=True)


async def open_admin(page: Page, app_name: str) -> None:
    """From the Apps page, the app's admin panel (tab Cases)."""
    await page.get_by_role("link", name=f"ADMIN {app_name}").click()
    await expect(page.get_by_role("tab", name="Cases")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"#/apps/[^/]+/cases$"))


async def open_imports(page: Page) -> None:
    """From the admin panel, Integration → IMPORTS."""
    await page.get_by_role("tab", name="Integration").click()
    await page.get_by_role("link", name="IMPORTS", exact=True).click()
    await expect(page).to_have_url(re.compile(r"#/apps/[^/]+/imports$"))


def row_of(page: Page, text: str) -> Locator:
    """The table row holding this text (an import's name, a case's tag)."""
    return page.get_by_role("row").filter(has_text=text)


def import_status(page: Page) -> Locator:
    """The import page's live status."""
    return page.locator('[aria-live="polite"]').first


def count_of(page: Page, label: str) -> Locator:
    """The figure shown under a count's label (import results; the cases dashboard's counts)."""
    term = page.locator("dt").get_by_text(label, exact=True)
    return page.locator(".counts > div").filter(has=term).locator("dd")


async def expect_result(page: Page, **counts: int) -> None:
    """The import page shows these result counts: ``expect_result(page, rows=2, created=2)``."""
    for label, value in counts.items():
        await expect(count_of(page, label.capitalize())).to_have_text(f"{value:,}")


async def set_file(page: Page, label: str, path: Any) -> None:
    await page.get_by_label(label, exact=True).set_input_files(path)


async def sample_csv(base_url: str, type_key: str = "cases.add") -> str:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get(f"/api/import-types/{type_key}/sample.csv")
    response.raise_for_status()
    return response.text


async def seed_import(
    base_url: str,
    admin: AdminSetup,
    content: str,
    name: str,
    type_key: str = "cases.add",
    on_error: str = "fail",
) -> dict[str, Any]:
    """Upload a file through the API (with the admin's token) and answer the import once the
    live worker has brought it to its end."""
    import_id = await queue_import(base_url, admin, content, name, type_key, on_error)
    url = f"/api/apps/{admin.slug}/imports/{import_id}"
    deadline = time.monotonic() + IMPORT_TIMEOUT / 1000
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        while True:
            body: dict[str, Any] = (await client.get(url)).raise_for_status().json()
            if body["status"] in TERMINAL:
                return body
            assert time.monotonic() < deadline, f"import still {body['status']}: {body}"
            await asyncio.sleep(0.05)


async def open_new_import(page: Page) -> Page:
    """Click NEW on the imports list; answers the Add Imports dialog, open in its new tab."""
    async with page.expect_popup() as popup:
        await page.get_by_role("button", name="NEW").click()
    dialog = await popup.value
    await expect(dialog.get_by_role("heading", name="Add Imports")).to_be_visible()
    return dialog


async def fill_new_import(
    dialog: Page, name: str, type_label: str = "Add cases", file: Any = None
) -> None:
    """Fill the Add Imports dialog (no file keeps a draft); SAVE is left to the test."""
    await dialog.get_by_role("textbox", name="Name").fill(name)
    await dialog.get_by_role("combobox", name="Type").select_option(label=type_label)
    if file is not None:
        await set_file(dialog, "File", file)


async def expect_import_page(page: Page, name: str, status: str) -> None:
    """The import page of this import shows this status (waiting for the worker if need be)."""
    await expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    await expect(import_status(page)).to_contain_text(status, timeout=IMPORT_TIMEOUT)


async def queue_import(
    base_url: str,
    admin: AdminSetup,
    content: str | None,
    name: str,
    type_key: str = "cases.add",
    on_error: str = "fail",
) -> str:
    """Upload a file through the API and answer the new import's id, without waiting for it;
    without content, the import is a draft."""
    files = {"file": ("cases.csv", content.encode(), "text/csv")} if content is not None else None
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        response = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={"name": name, "type": type_key, "on_error": on_error},
            files=files,
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def served_statuses(base_url: str, admin: AdminSetup) -> dict[str, dict[str, Any]]:
    """What ``GET /api/import-statuses`` answers, by key."""
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        response = await client.get("/api/import-statuses")
    response.raise_for_status()
    return {status["key"]: status for status in response.json()}


# What sticks out sideways: a page or any box that scrolls sideways, and any element drawn past
# the window's left or right edge (the skip link waits off screen until it is focused).
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const classes = (el) => typeof el.className === "string" && el.className
    ? "." + el.className.replaceAll(" ", ".") : "";
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes(el)
    + ' "' + (el.textContent || "").trim().slice(0, 40) + '"';
  const found = [];
  for (const el of [document.scrollingElement, ...document.body.querySelectorAll("*")]) {
    const scrolls = el === document.scrollingElement
      || ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} scrolls sideways: ${el.scrollWidth} > ${el.clientWidth}`);
    }
    if (el === document.scrollingElement || el.closest(".skip")) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.height && (r.left < -1 || r.right > width + 1)) {
      found.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
    }
  }
  return found;
}
"""


async def expect_fits(page: Page, where: str) -> None:
    await page.wait_for_load_state("networkidle")
    found = await page.evaluate(OVERFLOW)
    assert not found, f"{where}: {found}"


async def expect_admins_only(page: Page, slug: str, link: str, route: str) -> None:
    """A viewer's Integration menu has no ``link``, and the page's address refuses them."""
    await expect(page.get_by_role("link", name=link)).to_have_count(0)
    await page.goto(f"/#/apps/{slug}/{route}")
    await expect(page.get_by_text("Only admins of this app can open this page.")).to_be_visible()


async def expect_secret_shown_whole(box: Locator) -> None:
    """A secret shown once (a new token, a signing secret) shows all of it: nothing scrolled
    out of sight, sideways or down, its first letter included."""
    shown = await box.evaluate(
        "e => [e.scrollLeft, e.scrollTop, e.scrollWidth <= e.clientWidth,"
        " e.scrollHeight <= e.clientHeight + 1]"
    )
    assert shown == [0, 0, True, True], shown


async def expect_copy_copies(page: Page, box: Locator) -> None:
    """The Copy button beside a secret puts the whole secret on the clipboard (the context needs
    the clipboard permissions)."""
    value = await box.input_value()
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_text("Copied.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == value


async def tab_shown_again(page: Page) -> None:
    """The user comes back to the page's tab. Headless Chromium never hides a tab, so the
    browser's notice of it (a ``visibilitychange`` while the tab is visible) is sent here."""
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
