"""What each role sees: a viewer reads but cannot import or hold tokens; an admin's API tokens,
and a revoke refused once the admin is one no more."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.ui import ADD_HEADER, open_admin, open_imports, row_of, seed_import, sign_in
from tests.factories import admin_setup, make_member, make_user


async def test_a_viewer_sees_imports_but_cannot_import_or_manage_tokens(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed_import(live_server, admin, ADD_HEADER + "V-1,1,01/02/2024,Seen by all\r\n", "Shared")
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")

    await sign_in(page, "viewer@example.org")
    await open_admin(page, "Field Ops")
    await expect(row_of(page, "V-1")).to_contain_text("Seen by all")
    await open_imports(page)
    await expect(row_of(page, "Shared")).to_contain_text("Completed")
    await expect(page.get_by_role("button", name="NEW")).to_have_count(0)
    await expect(page.get_by_role("link", name="API TOKENS")).to_have_count(0)

    # Typing the addresses does not open the pages either.
    await page.goto("/#/apps/field-ops/imports/new")
    await expect(page.get_by_text("Only admins of this app can open this page.")).to_be_visible()
    await expect(page.get_by_role("button", name="SAVE")).to_have_count(0)
    await page.goto("/#/apps/field-ops/tokens")
    await expect(page.get_by_text("Only admins of this app can open this page.")).to_be_visible()
    await expect(page.get_by_role("button", name="Create token")).to_have_count(0)


async def test_an_admin_creates_a_token_sees_it_once_uses_it_and_revokes_it(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    await page.get_by_role("link", name="API TOKENS").click()

    await page.get_by_role("textbox", name="Token name").fill("nightly-ci")
    await page.get_by_role("button", name="Create token").click()
    secret_box = page.get_by_role("textbox", name="New token")
    await expect(secret_box).to_be_visible()
    secret = await secret_box.input_value()
    row = row_of(page, "nightly-ci")
    await expect(row).to_be_visible()
    prefix = (await row.get_by_role("cell").nth(1).inner_text()).strip()
    assert prefix
    assert secret.startswith(prefix), (prefix, secret)
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_text(re.compile(r"^(Copied\.|Press Ctrl\+C.*)$"))).to_be_visible()

    url = f"/api/apps/{admin.slug}/imports"
    async with httpx.AsyncClient(base_url=live_server) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert (await client.get(url, headers=headers)).status_code == 200

        # Shown once: after a reload only the prefix remains.
        await page.reload()
        await expect(row).to_be_visible()
        await expect(page.get_by_role("textbox", name="New token")).to_have_count(0)
        await expect(page.get_by_text(secret)).to_have_count(0)

        await row.get_by_role("button", name="Revoke nightly-ci").click()
        await expect(row).to_have_count(0)
        assert (await client.get(url, headers=headers)).status_code == 401


async def test_a_revoke_the_server_refuses_says_why(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/{admin.slug}/tokens")
    revoke = page.get_by_role("button", name="Revoke test")
    await expect(revoke).to_be_visible()

    # No longer an admin since the page was drawn: the revoke is refused, and says why.
    await make_member(sessionmaker, admin.email, admin.slug, "viewer")
    await revoke.click()
    await expect(page.get_by_role("alert").filter(has_text="admin")).to_have_text(
        "This needs the admin role in this app."
    )
    await expect(revoke).to_be_visible()
