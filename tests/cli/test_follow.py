"""How ``caseimport push`` and ``caseimport imports wait`` follow an import: from its event
stream, and by polling when the server will not stream it. Against the real app served over
HTTP and the real worker; which requests reached the app is recorded on the way in."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from httpx_sse import aconnect_sse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from api.config import Settings
from api.main import create_app
from cli.client.api import Api
from cli.client.follow import follow
from cli.client.report import PlainReporter
from cli.exits import Exit
from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER, upload
from tests.serving import serving
from tests.worker_harness import run_worker

GOOD = (ADD_HEADER + "F-1,1,1/13/2024,Followed one\r\nF-2,0,1/14/2024,Followed two\r\n").encode()


class Recorded:
    """The app, noting the path of every request it is sent."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
async def one_stream(settings: Settings) -> AsyncIterator[tuple[str, Recorded]]:
    """An API process that serves one stream at a time."""
    app = create_app(settings.model_copy(update={"events_max_streams": 1}))
    recorded = Recorded(app)
    async with app.router.lifespan_context(app), serving(recorded) as url:
        yield url, recorded


async def _asked(recorded: Recorded, path: str) -> None:
    """Once the app was sent a request for ``path`` (the command runs in a thread of its own,
    which may be slow to start on a busy machine)."""
    async with asyncio.timeout(30):
        while path not in recorded.paths:  # noqa: ASYNC110 - the recorder has no event
            await asyncio.sleep(0.05)


async def _follow(url: str, admin: AdminSetup, import_id: str) -> tuple[str, Exit, str]:
    """``follow`` as the command runs it (blocking, in a thread): the final status, the exit,
    and what the reporter wrote."""
    out = io.StringIO()
    api = Api(url, admin.token, user_agent="test")
    try:
        item, ending = await asyncio.to_thread(
            follow, api, admin.slug, import_id, PlainReporter(out), 60
        )
    finally:
        api.close()
    return str(item["status"]), ending, out.getvalue()


async def test_the_command_follows_the_event_stream(
    one_stream: tuple[str, Recorded],
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url, recorded = one_stream
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    recorded.paths.clear()
    following = asyncio.create_task(_follow(url, admin, created["id"]))
    one = f"/api/apps/{admin.slug}/imports/{created['id']}"
    await _asked(recorded, f"{one}/events")
    await run_worker()
    status, ending, said = await asyncio.wait_for(following, 60)
    assert (status, ending) == ("completed", Exit.COMPLETED)
    assert "completed" in said
    assert recorded.paths == [f"{one}/events"]  # one request, never a poll


async def test_the_command_polls_when_the_server_will_not_stream(
    one_stream: tuple[str, Recorded],
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    url, recorded = one_stream
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    one = f"/api/apps/{admin.slug}/imports/{created['id']}"
    # Another client holds the process's one stream: the command is refused one (503).
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        aconnect_sse(http, "GET", f"{one}/events", headers=dict(admin.headers)) as held,
    ):
        events = held.aiter_sse()  # kept: a generator dropped would close the stream
        await anext(events)
        recorded.paths.clear()
        following = asyncio.create_task(_follow(url, admin, created["id"]))
        await _asked(recorded, one)  # refused a stream, it polls
        await run_worker()
        status, ending, _ = await asyncio.wait_for(following, 60)
    assert (status, ending) == ("completed", Exit.COMPLETED)
    assert recorded.paths[0] == f"{one}/events"
    assert one in recorded.paths  # polled
