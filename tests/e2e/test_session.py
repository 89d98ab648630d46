"""Signing in and out, and the return to sign-in when the session ends."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.ui import apps_heading, open_admin, sign_in, submit_sign_in
from tests.factories import admin_setup


async def test_a_wrong_password_is_refused_and_the_right_one_signs_in_and_out(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/#/signin$"))

    await submit_sign_in(page, admin.email, "not the password")
    await expect(
        page.get_by_role("alert").filter(has_text="Wrong email or password.")
    ).to_be_visible()
    await expect(apps_heading(page)).to_have_count(0)

    await sign_in(page, admin.email)
    await expect(page.get_by_role("link", name="ADMIN Field Ops")).to_be_visible()
    await expect(page.get_by_text(admin.email)).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # The session is gone on the server too: reloading does not sign back in.
    await page.reload()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(apps_heading(page)).to_have_count(0)


async def test_an_ended_session_returns_to_sign_in_and_back_to_where_the_user_was(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")

    # The server ends every session (as expiry or an operator's revocation would).
    async with sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM sessions"))

    await page.get_by_role("tab", name="Integration").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"#/signin$"))
    # Signing in again leads back to the page the user was on, not to the start.
    await submit_sign_in(page, admin.email)
    await expect(page).to_have_url(re.compile(r"#/apps/field-ops/imports$"))
    await expect(page.get_by_role("heading", name="Imports")).to_be_visible()


async def test_a_link_opened_while_signed_out_shows_its_page_after_sign_in(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await page.goto("/#/apps/field-ops/tokens")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await submit_sign_in(page, admin.email)
    await expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
