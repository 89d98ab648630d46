"""The import page follows its import live, from the import's server-sent events, and by
polling when the stream cannot be had."""

from __future__ import annotations

from playwright.async_api import Page, Request, Route
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.conftest import LiveWorker
from tests.e2e.ui import (
    ADD_HEADER,
    expect_import_page,
    expect_result,
    queue_import,
    sign_in,
)
from tests.factories import admin_setup

GOOD = ADD_HEADER + "LIVE-1,1,03/07/2024,Hydrant on Elm\r\nLIVE-2,0,03/08/2024,Pothole on Ash\r\n"


async def test_the_import_page_moves_on_from_its_events_without_polling(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    live_worker: LiveWorker,
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    async with live_worker.paused():
        import_id = await queue_import(live_server, admin, GOOD, "Live intake")
        await page.goto(f"/#/apps/{admin.slug}/imports/{import_id}")
        await expect_import_page(page, "Live intake", "Queued")
    # The worker is back: the page shows the result without a reload.
    await expect_import_page(page, "Live intake", "Completed")
    await expect_result(page, rows=2, created=2)
    one = f"{live_server}/api/apps/{admin.slug}/imports/{import_id}"
    assert f"{one}/events" in asked
    assert one not in asked  # never polled: every state came from the stream


async def test_the_import_page_polls_when_the_stream_is_refused(
    page: Page,
    sessionmaker: async_sessionmaker[AsyncSession],
    live_server: str,
    live_worker: LiveWorker,
) -> None:
    admin = await admin_setup(sessionmaker)
    await sign_in(page, admin.email)

    # A proxy in the way that answers streams with an error, as one that cannot pass them may.
    async def refuse(route: Route) -> None:
        await route.fulfill(status=503, body="no streams here")

    await page.route("**/events", refuse)
    polled: list[Request] = []
    page.on("request", lambda request: polled.append(request))
    async with live_worker.paused():
        import_id = await queue_import(live_server, admin, GOOD, "Polled intake")
        await page.goto(f"/#/apps/{admin.slug}/imports/{import_id}")
        await expect_import_page(page, "Polled intake", "Queued")
    await expect_import_page(page, "Polled intake", "Completed")
    await expect_result(page, rows=2, created=2)
    one = f"{live_server}/api/apps/{admin.slug}/imports/{import_id}"
    assert any(request.url == one for request in polled)
