"""Shared by the browser tests of the import page's plans, reverts and fixing rows in place:
the widths they run at, a check that nothing scrolls sideways, seeding check-only imports, and
the screenshots the README shows (written to ``E2E_SCREENSHOTS`` when it is set)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.ui import IMPORT_TIMEOUT, TERMINAL
from tests.factories import AdminSetup

# A desktop and the narrowest phone the SPA supports.
WIDTHS = pytest.mark.parametrize("width", [1280, 360], ids=["desktop", "360px"])
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")


async def at_width(page: Page, width: int) -> None:
    await page.set_viewport_size({"width": width, "height": 900})


async def save_shot(page: Page, filename: str, *, whole: bool = True) -> None:
    """A screenshot for the docs, from the page's top, when asked for
    (E2E_SCREENSHOTS=docs/screenshots); ``whole``: the whole page, not only the window."""
    if SCREENSHOTS:  # Playwright makes the folder
        await page.evaluate("window.scrollTo(0, 0)")
        await page.screenshot(path=Path(SCREENSHOTS) / filename, full_page=whole)


async def shot(page: Page, name: str, width: int) -> None:
    """The page at a desktop's width as ``name.png``, at a phone's as ``name-360.png``."""
    await save_shot(page, f"{name}{'' if width > 600 else '-360'}.png")


# The page's width, the window's, and what reaches past the window outside any box that scrolls
# (elements, and text that does not wrap), to say which.
WIDEST = """() => {
  const inner = window.innerWidth;
  const scrolled = (el) => {
    for (let up = el; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const past = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    if (range.getBoundingClientRect().right > inner + 0.5 && !scrolled(text.parentElement)) {
      past.push(`${text.parentElement.tagName.toLowerCase()}: ${text.textContent.slice(0, 40)}`);
    }
  }
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right > inner + 0.5 && !scrolled(el.parentElement)) {
      past.push(`${el.tagName.toLowerCase()}.${el.className}`);
    }
  }
  return [document.documentElement.scrollWidth, inner, past.slice(0, 8)];
}"""


async def expect_no_sideways_scroll(page: Page) -> None:
    scroll, inner, widest = await page.evaluate(WIDEST)
    assert scroll <= inner, f"the page scrolls sideways: {scroll} px wide in {inner} px: {widest}"


async def expect_within_width(page: Page, control: Locator) -> None:
    """The control is shown, and inside the window's width (reachable without scrolling)."""
    await expect(control).to_be_visible()
    box = await control.bounding_box()
    inner = await page.evaluate("window.innerWidth")
    assert box is not None
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= inner, box


async def seed(
    base_url: str,
    admin: AdminSetup,
    content: str,
    name: str,
    type_key: str = "cases.add",
    **options: str,
) -> dict[str, Any]:
    """Upload through the API (validate_only, on_error ... as ``options``) and answer the import
    once the live worker has finished it."""
    async with httpx.AsyncClient(base_url=base_url, headers=admin.headers) as client:
        response = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={"name": name, "type": type_key, **options},
            files={"file": ("cases.csv", content.encode(), "text/csv")},
        )
        assert response.status_code == 201, response.text
        return await finished(client, admin, response.json()["id"])


async def finished(client: httpx.AsyncClient, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    url = f"/api/apps/{admin.slug}/imports/{import_id}"
    deadline = time.monotonic() + IMPORT_TIMEOUT / 1000
    while True:
        body: dict[str, Any] = (await client.get(url)).raise_for_status().json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, f"import still {body['status']}: {body}"
        await asyncio.sleep(0.05)


async def open_import(page: Page, admin: AdminSetup, item: dict[str, Any]) -> None:
    await page.goto(f"/#/apps/{admin.slug}/imports/{item['id']}")
    await expect(page.get_by_role("heading", name=item["name"], exact=True)).to_be_visible()
