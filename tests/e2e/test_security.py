"""The SPA runs under its strict Content-Security-Policy without a single violation."""

from __future__ import annotations

import re

from playwright.async_api import ConsoleMessage, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.ui import (
    ADD_HEADER,
    expect_import_page,
    open_admin,
    open_imports,
    open_new_import,
    row_of,
    seed_import,
    sign_in,
)
from tests.factories import admin_setup

# Recorded by the page itself: a violation fires this event on the document whatever its source.
_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


async def _violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__cspViolations")
    return found


async def test_the_spa_runs_with_no_content_security_policy_violation(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed_import(live_server, admin, ADD_HEADER + "S-1,1,01/02/2024,Secured\r\n", "Good")
    await seed_import(live_server, admin, ADD_HEADER + "S-2,9,02/30/2024,Bad\r\n", "Bad")
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            console.append(message.text)

    page.context.on("console", on_console)
    await page.context.add_init_script(_RECORD_VIOLATIONS)

    response = await page.goto("/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # Every page of the SPA an admin opens: sign-in, apps, cases, imports, an import with
    # errors (its tooltip and table), the Add Imports dialog and the tokens page.
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await expect(row_of(page, "S-1")).to_contain_text("Secured")
    await open_imports(page)
    await row_of(page, "Bad").get_by_role("link", name="View Bad").click()
    await expect_import_page(page, "Bad", "Failed")
    await expect(page.get_by_role("table").first).to_be_visible()
    await page.go_back()
    await expect(page).to_have_url(re.compile(r"#/apps/field-ops/imports$"))
    dialog = await open_new_import(page)
    await page.get_by_role("link", name="API TOKENS").click()
    await expect(page.get_by_role("button", name="Create token")).to_be_visible()

    assert await _violations(page) == []
    assert await _violations(dialog) == []
    assert console == []

    # The listener does see a violation: an inline script is refused and reported.
    await page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.append(s); }"""
    )
    await page.wait_for_function("window.__cspViolations.length > 0")
    assert await page.evaluate("window.__ran === undefined")
