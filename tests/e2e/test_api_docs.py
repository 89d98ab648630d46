"""The API's documentation pages render in a real browser with no internet access: Swagger UI
and ReDoc from the service's own files, under their policy, without a violation."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page, Route, expect

from tests.e2e.test_security import _RECORD_VIOLATIONS, _violations


async def _offline(page: Page, live_server: str) -> list[str]:
    """Every request to another host is cut off, as on a network without internet; the
    list collects them."""
    own = urlsplit(live_server).netloc
    elsewhere: list[str] = []

    async def route(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc in (own, ""):
            await route.continue_()
        else:
            elsewhere.append(url)
            await route.abort("internetdisconnected")

    await page.route("**/*", route)
    await page.context.add_init_script(_RECORD_VIOLATIONS)
    return elsewhere


async def test_swagger_ui_renders_offline_with_authorize(page: Page, live_server: str) -> None:
    elsewhere = await _offline(page, live_server)
    await page.goto("/api/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Case import")
    # The security schemes give Swagger its Authorize button; the operations are listed.
    await expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    await expect(page.get_by_text("/api/apps/{app}/imports", exact=True).first).to_be_visible()
    assert elsewhere == []
    assert await _violations(page) == []


async def test_redoc_renders_offline(page: Page, live_server: str) -> None:
    elsewhere = await _offline(page, live_server)
    await page.goto("/api/redoc")
    await expect(page.get_by_role("heading", name="Case import", exact=False).first).to_be_visible(
        timeout=30_000
    )
    await expect(page.get_by_text("Create Import").first).to_be_attached()
    assert elsewhere == []
    # ReDoc's "by Redocly" badge is an image on its maker's site: the policy refuses it, so
    # the page asks nothing of the internet. Nothing else is refused.
    badge = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in await _violations(page) if v != badge] == []
