"""Webhooks in the SPA (Integration → WEBHOOKS, admins): register an endpoint (its signing
secret shown once, with Copy), send it a test event and read the deliveries, see an import's
event delivered, delete it (its confirmation leaves with the page); a list the server refuses
says why. The endpoint is a real receiver on 127.0.0.1 and the deliveries are sent by the
worker's own sender. At desktop width and 360 px."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.webhooks import signing
from tests.e2e.import_tools import WIDTHS, at_width, expect_within_width, seed
from tests.e2e.ui import (
    ADD_HEADER,
    expect_admins_only,
    expect_copy_copies,
    expect_fits,
    expect_secret_shown_whole,
    open_admin,
    open_imports,
    row_of,
    sign_in,
)
from tests.factories import AdminSetup, admin_setup, make_member, make_user
from tests.factories import sign_in as session_for
from tests.webhook_receiver import receiving
from worker.webhooks.sender import send_forever


@pytest.fixture
async def sender(e2e_settings: Settings) -> AsyncIterator[None]:
    """The worker's webhook sender, running as in a deployed worker (the live test worker runs
    imports only)."""
    async with asyncpg.create_pool(e2e_settings.database_url, min_size=1, max_size=2) as pool:
        task = asyncio.create_task(send_forever(pool, e2e_settings))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@WIDTHS
@pytest.mark.usefixtures("sender")
async def test_an_admin_registers_a_webhook_tests_it_reads_its_deliveries_and_deletes_it(
    page: Page,
    context: BrowserContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    width: int,
) -> None:
    admin = await admin_setup(sessionmaker)
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    await at_width(page, width)
    await sign_in(page, admin.email)
    await open_admin(page, "Field Ops")
    await open_imports(page)
    await page.get_by_role("link", name="WEBHOOKS").click()
    await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    await expect(page.get_by_role("table", name="Webhooks")).to_contain_text("No webhooks yet.")

    # A URL the service refuses is said next to the field.
    url = page.get_by_role("textbox", name="Endpoint URL")
    await url.fill("ftp://example.org/hook")
    await page.get_by_role("button", name="Add webhook").click()
    await expect(page.get_by_role("alert").filter(has_text="http")).to_be_visible()

    with receiving() as receiver:
        await url.fill(receiver.url)
        await expect(page.get_by_role("checkbox", name="Import completed")).to_be_checked()
        await expect(page.get_by_role("checkbox", name="Import cancelled")).not_to_be_checked()
        await page.get_by_role("button", name="Add webhook").click()
        secret_box = page.get_by_role("textbox", name="Signing secret")
        await expect(secret_box).to_have_value(re.compile(r"^whsec_\S{20,}$"))
        secret = await secret_box.input_value()
        await expect_secret_shown_whole(secret_box)
        await expect_copy_copies(page, secret_box)

        row = row_of(page, receiver.url)
        await expect(row).to_contain_text("Import completed, Import failed")
        test_button = row.get_by_role("button", name="Send test event")
        await expect_within_width(page, test_button)
        await test_button.click()
        deliveries = page.get_by_role("region", name=f"Deliveries to {receiver.url}")
        delivered = deliveries.get_by_role("row").filter(has_text="webhook.test")
        await expect(delivered).to_contain_text("Delivered", timeout=15_000)
        await expect(delivered).to_contain_text("answered 200")
        await expect(delivered).to_contain_text("Test event")  # its label, the key beside it
        (test,) = await receiver.wait_for(1)
        assert test.headers["Caseimport-Event"] == "webhook.test"
        assert signing.verify(secret, test.headers["Caseimport-Signature"], test.body)
        await expect_fits(page, f"webhooks at {width}")

        # An import that finishes is sent too, and listed once Deliveries is asked again.
        await seed(live_server, admin, ADD_HEADER + "W-1,1,01/05/2024,Hooked\r\n", "Hooked")
        received = await receiver.wait_for(2)
        assert json.loads(received[1].body)["data"]["import"]["name"] == "Hooked"
        await row.get_by_role("button", name="Deliveries").click()
        finished = deliveries.get_by_role("row").filter(has_text="import.completed")
        await expect(finished).to_contain_text("Delivered")
        await expect(finished).to_contain_text("Import completed")

    await row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete this webhook?")
    await expect(dialog).to_contain_text(receiver.url)
    await dialog.get_by_role("button", name="Delete webhook").click()
    await expect(page.get_by_role("table", name="Webhooks")).to_contain_text("No webhooks yet.")
    await expect(deliveries).to_have_count(0)
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        listed = await client.get(f"/api/apps/{admin.slug}/webhooks")
    assert listed.json()["items"] == []

    # Both are in the audit log, by their labels.
    await page.get_by_role("link", name="AUDIT LOG").click()
    log = page.get_by_role("table", name="Audit log")
    await expect(log.get_by_role("row").filter(has_text="Webhook deleted")).to_contain_text(
        receiver.url
    )
    await expect(log.get_by_role("row").filter(has_text="Webhook added")).to_contain_text(
        admin.email
    )


async def test_a_viewer_has_no_webhooks(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    await sign_in(page, "viewer@example.org")
    await open_admin(page, "Field Ops")
    await open_imports(page)
    await expect_admins_only(page, admin.slug, "WEBHOOKS", "webhooks")


async def _add_webhook(live_server: str, admin: AdminSetup, url: str) -> dict[str, Any]:
    """Register an endpoint through the API (signed in: a token may not)."""
    async with httpx.AsyncClient(base_url=live_server) as client:
        await session_for(client, admin.email)
        made = await client.post(
            f"/api/apps/{admin.slug}/webhooks", json={"url": url, "events": ["import.completed"]}
        )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def test_the_delete_dialog_leaves_with_the_page(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    await _add_webhook(live_server, admin, "http://127.0.0.1:9/hooks/1")
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/{admin.slug}/webhooks")
    await row_of(page, "http://127.0.0.1:9/hooks/1").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete this webhook?")
    await expect(dialog).to_be_visible()

    # Another page by its address (the user types it, or goes back): the question goes too.
    await page.goto(f"/#/apps/{admin.slug}/imports")
    await expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    await expect(dialog).to_have_count(0)


async def test_a_list_the_server_refuses_says_why(
    page: Page, sessionmaker: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    admin = await admin_setup(sessionmaker)
    hook = await _add_webhook(live_server, admin, "http://127.0.0.1:9/hooks/1")
    await sign_in(page, admin.email)
    await page.goto(f"/#/apps/{admin.slug}/webhooks")
    row = row_of(page, "http://127.0.0.1:9/hooks/1")
    await row.get_by_role("button", name="Deliveries").click()
    deliveries = page.get_by_role("region", name="Deliveries to http://127.0.0.1:9/hooks/1")
    await expect(deliveries).to_contain_text("Nothing sent yet.")

    # Deleted meanwhile (another tab, a script): asked again, its deliveries are refused.
    async with httpx.AsyncClient(base_url=live_server, headers=admin.headers) as client:
        gone = await client.delete(f"/api/apps/{admin.slug}/webhooks/{hook['id']}")
    assert gone.status_code == 204, gone.text
    await row.get_by_role("button", name="Deliveries").click()
    await expect(deliveries.get_by_role("alert")).to_have_text(
        "There is no such webhook in this app."
    )

    # No longer an admin: the list itself is refused, and says so instead of an empty table.
    await make_member(sessionmaker, admin.email, admin.slug, "viewer")
    await page.goto(f"/#/apps/{admin.slug}/imports")
    await expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    await page.goto(f"/#/apps/{admin.slug}/webhooks")
    await expect(page.get_by_role("alert").filter(has_text="admin role")).to_have_text(
        "This needs the admin role in this app."
    )
    await expect(page.get_by_role("table", name="Webhooks")).not_to_contain_text("No webhooks yet.")
