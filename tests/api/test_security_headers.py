"""Every answer carries the security headers: API JSON, problems, the SPA's page and files."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.problems import install_handlers
from api.security_headers import CONTENT_SECURITY_POLICY, SecurityHeaders
from tests.factories import admin_setup, assert_problem


def assert_secured(response: Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_policy_allows_only_the_own_origin_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_an_api_json_answer(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    response = await client.get("/api/apps", headers=admin.headers)
    assert response.status_code == 200
    assert_secured(response)


async def test_a_problem_answer(client: AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    assert_problem(response, 401, "unauthenticated")
    assert_secured(response)


async def test_a_refusal_of_the_nul_guard(client: AsyncClient) -> None:
    response = await client.get("/api/import-types/%00/sample.csv")
    assert response.status_code == 422
    assert_secured(response)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/", "text/html"), ("/app.js", "text/javascript"), ("/styles.css", "text/css")],
)
async def test_the_spa_page_and_its_files(client: AsyncClient, path: str, media_type: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert_secured(response)


async def test_the_spa_page_has_no_inline_script_or_style(client: AsyncClient) -> None:
    page = (await client.get("/")).text
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert re.search(r"\son[a-z]+=|\sstyle=|<style|javascript:|data:", page, re.IGNORECASE) is None


async def test_the_api_docs_page_allows_only_its_own_inline_script(client: AsyncClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in script_src
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_server_error_answer() -> None:
    # Starlette answers a 500 outside every middleware; the handler adds the headers itself.
    failing = FastAPI()
    install_handlers(failing)
    failing.add_middleware(SecurityHeaders)

    @failing.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = ASGITransport(app=failing, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/boom")
    assert_problem(response, 500, "internal_error")
    assert_secured(response)
