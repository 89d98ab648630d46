"""``GET .../imports/{id}/events``: an import's server-sent events, over a real HTTP server.

The app is served by uvicorn on a local port (httpx's in-process transport would wait for the
end of a stream before answering), on the real database and Redis; changes come from the real
worker, the API, or the worker's own lifecycle transitions run here on an asyncpg connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from httpx_sse import ServerSentEvent, aconnect_sse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.events.broker import Broker
from api.events.listener import APPLICATION_NAME
from api.events.snapshot import parse_event_id
from api.imports import lifecycle, repository
from api.imports.lifecycle import Counts
from api.imports.status import ImportStatus
from api.main import create_app
from tests.factories import (
    AdminSetup,
    admin_setup,
    assert_problem,
    bearer,
    make_member,
    make_token,
    make_user,
)
from tests.importing import ADD_HEADER, upload
from tests.metrics_text import value
from tests.serving import serving
from tests.worker_harness import run_worker

GOOD = (ADD_HEADER + "E-1,1,1/13/2024,One\r\nE-2,0,1/14/2024,Two\r\n").encode()
WAIT = 20.0


@pytest.fixture(scope="module")
async def served(app: FastAPI) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
async def tight(settings: Settings) -> AsyncIterator[str]:
    """Another API process's settings: a keep-alive every 0.2 s, at most 2 streams."""
    app = create_app(
        settings.model_copy(update={"events_heartbeat_seconds": 0.2, "events_max_streams": 2})
    )
    async with app.router.lifespan_context(app), serving(app) as url:
        yield url


def _events_path(admin: AdminSetup, import_id: str) -> str:
    return f"/api/apps/{admin.slug}/imports/{import_id}/events"


class Follower:
    """A stream's events, read as they come by a task of their own."""

    def __init__(self, events: AsyncIterator[ServerSentEvent]) -> None:
        self._queue: asyncio.Queue[ServerSentEvent | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump(events))

    async def _pump(self, events: AsyncIterator[ServerSentEvent]) -> None:
        try:
            async for event in events:
                await self._queue.put(event)
        finally:
            await self._queue.put(None)  # the stream ended

    async def next(self) -> ServerSentEvent:
        event = await asyncio.wait_for(self._queue.get(), WAIT)
        assert event is not None, "the stream ended"
        return event

    async def rest(self) -> list[ServerSentEvent]:
        """Every event until the stream ends by itself."""
        events: list[ServerSentEvent] = []
        while (event := await asyncio.wait_for(self._queue.get(), WAIT)) is not None:
            events.append(event)
        return events

    async def silent(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return self._queue.empty()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@asynccontextmanager
async def following(url: str, path: str, headers: dict[str, str]) -> AsyncIterator[Follower]:
    async with (
        httpx.AsyncClient(base_url=url, timeout=WAIT) as http,
        aconnect_sse(http, "GET", path, headers=dict(headers)) as source,
    ):
        assert source.response.status_code == 200, await source.response.aread()
        follower = Follower(source.aiter_sse())
        try:
            yield follower
        finally:
            await follower.close()


def _status(event: ServerSentEvent) -> str:
    data: dict[str, Any] = event.json()
    return str(data["status"])


async def test_the_first_event_is_the_import_now_and_the_last_its_finished_state(
    served: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    async with following(served, _events_path(admin, created["id"]), admin.headers) as events:
        first = await events.next()
        assert (first.event, _status(first)) == ("status", "queued")
        assert first.json() == (await client.get(
            f"/api/apps/{admin.slug}/imports/{created['id']}", headers=admin.headers
        )).json()  # fmt: skip
        assert first.retry is not None
        worker = asyncio.create_task(run_worker())
        rest = await events.rest()  # the stream ends by itself after the finished state
        await worker
    last = rest[-1]
    assert (last.event, _status(last)) == ("status", "completed")
    assert last.json()["result"]["created"] == 2
    assert last.json()["progress"]["percent"] == 100.0
    versions = [parse_event_id(e.id) or (-1,) for e in [first, *rest]]
    assert min(versions) > (-1,)  # every id is one of ours
    assert versions == sorted(set(versions))  # and each is newer than the one before


async def test_progress_comes_from_the_workers_beats(
    served: str,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    import_id = uuid.UUID(created["id"])
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with following(served, _events_path(admin, created["id"]), admin.headers) as events:
            assert _status(await events.next()) == "queued"
            claim = await lifecycle.claim(conn, import_id, 1, 20)
            assert claim is not None
            validating = await events.next()
            assert (validating.event, _status(validating)) == ("status", "validating")

            for rows in (1, 2):
                await lifecycle.beat(
                    conn,
                    claim,
                    status=ImportStatus.VALIDATING,
                    rows=rows,
                    bytes_read=40 * rows,
                    lease_seconds=20,
                )
                moved = await events.next()
                assert moved.event == "progress"
                assert moved.json()["progress"]["rows_processed"] == rows
            await lifecycle.beat(
                conn,
                claim,
                status=ImportStatus.APPLYING,
                rows=2,
                bytes_read=80,
                lease_seconds=20,
            )
            applying = await events.next()
            assert (applying.event, _status(applying)) == ("status", "applying")

            async with conn.transaction():
                assert await lifecycle.complete(conn, claim, Counts(rows=2, created=2))
            done = await events.next()
            assert (done.event, _status(done)) == ("status", "completed")
            assert done.json()["result"]["rows"] == 2
            assert await events.rest() == []
    finally:
        await conn.close()


async def test_last_event_id_resumes_without_sending_again_what_was_seen(
    served: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    path = _events_path(admin, created["id"])
    async with following(served, path, admin.headers) as events:
        seen = (await events.next()).id
    async with following(served, path, {**admin.headers, "Last-Event-ID": seen}) as events:
        assert await events.silent(0.5)  # nothing newer than what the client saw
        cancelled = await client.post(
            f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
        )
        assert cancelled.status_code == 200
        later = await events.rest()
    assert [(e.event, _status(e)) for e in later] == [("status", "cancelled")]
    final = later[0].id

    # An older id gets the import as it is now; the final state's id, nothing more (204 tells
    # a browser's EventSource not to reconnect).
    async with following(served, path, {**admin.headers, "Last-Event-ID": seen}) as events:
        assert [_status(e) for e in await events.rest()] == ["cancelled"]
    async with httpx.AsyncClient(base_url=served, timeout=WAIT) as http:
        ended = await http.get(path, headers={**admin.headers, "Last-Event-ID": final})
        assert ended.status_code == 204
        # An id that is not one of ours counts as none.
        odd = await http.get(path, headers={**admin.headers, "Last-Event-ID": "yesterday"})
        assert odd.status_code == 200
        assert "event: status" in odd.text


async def test_an_idle_stream_sends_a_keep_alive_comment(
    tight: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    async with (
        httpx.AsyncClient(base_url=tight, timeout=WAIT) as http,
        http.stream("GET", _events_path(admin, created["id"]), headers=admin.headers) as answer,
    ):
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-store"
        lines: list[str] = []
        async with asyncio.timeout(WAIT):
            async for line in answer.aiter_lines():
                lines.append(line)
                if line == ": keep-alive":
                    break
    assert lines[0] == "event: status"
    assert ": keep-alive" in lines


async def test_keep_alives_are_no_events_to_a_client(
    tight: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    async with following(tight, _events_path(admin, created["id"]), admin.headers) as events:
        assert _status(await events.next()) == "queued"
        assert await events.silent(1.0)  # five keep-alives went by
        cancelled = await client.post(
            f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
        )
        assert cancelled.status_code == 200
        assert [_status(e) for e in await events.rest()] == ["cancelled"]


async def test_a_process_refuses_streams_over_its_limit(
    tight: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    path = _events_path(admin, created["id"])
    async with (
        following(tight, path, admin.headers) as one,
        following(tight, path, admin.headers) as two,
    ):
        await one.next()
        await two.next()
        async with httpx.AsyncClient(base_url=tight, timeout=WAIT) as http:
            third = await http.get(path, headers=admin.headers)
        problem = assert_problem(third, 503, "too_many_streams")
        assert third.headers["retry-after"]
        assert problem["detail"]


async def test_only_those_who_may_see_the_import_can_follow_it(
    served: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    path = _events_path(admin, created["id"])
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    viewer = await make_token(sessionmaker, "viewer@example.org", admin.slug)
    other = await admin_setup(sessionmaker, slug="elsewhere", email="other@example.org")
    async with httpx.AsyncClient(base_url=served, timeout=WAIT) as http:
        assert_problem(await http.get(path), 401, "unauthenticated")
        assert_problem(await http.get(path, headers=other.headers), 404, "app_not_found")
        foreign = _events_path(other, created["id"])
        assert_problem(await http.get(foreign, headers=other.headers), 404, "import_not_found")
        unknown = _events_path(admin, str(uuid.uuid4()))
        assert_problem(await http.get(unknown, headers=admin.headers), 404, "import_not_found")
    async with following(served, path, bearer(viewer)) as events:
        assert _status(await events.next()) == "queued"


async def test_open_streams_hold_no_database_connection(
    served: str,
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    path = _events_path(admin, created["id"])
    # More streams than the pool and its overflow have connections.
    count = settings.db_pool_size + 10 + 5
    async with httpx.AsyncClient(
        base_url=served, timeout=WAIT, limits=httpx.Limits(max_connections=count + 5)
    ) as http:
        streams = [
            aconnect_sse(http, "GET", path, headers=dict(admin.headers)) for _ in range(count)
        ]
        sources = [await stream.__aenter__() for stream in streams]
        # Kept: a generator dropped would close its stream.
        readers = [source.aiter_sse() for source in sources]
        try:
            for reader in readers:
                first = await asyncio.wait_for(anext(reader), WAIT)
                assert _status(first) == "queued"
            assert app.state.events.broker.streams == count
            assert app.state.engine.pool.checkedout() == 0
            listed = await http.get(f"/api/apps/{admin.slug}/imports", headers=admin.headers)
            assert listed.status_code == 200
        finally:
            for stream in streams:
                await stream.__aexit__(None, None, None)


async def test_changes_missed_while_the_listener_was_cut_off_are_sent(
    served: str,
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with following(served, _events_path(admin, created["id"]), admin.headers) as events:
            assert _status(await events.next()) == "queued"
            # A change whose notice never reached the listener (no transition sent one).
            await conn.execute(
                "UPDATE imports SET status = 'cancelled', finished_at = now() WHERE id = $1",
                uuid.UUID(created["id"]),
            )
            assert await events.silent(0.5)
            broker = app.state.events.broker
            cut = await conn.fetchval(
                """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE application_name = $1 AND datname = current_database()""",
                APPLICATION_NAME,
            )
            assert cut >= 1
            # The listener connects again, and reads the followed imports afresh.
            assert [_status(e) for e in await events.rest()] == ["cancelled"]
            async with asyncio.timeout(WAIT):
                await broker.listening.wait()
    finally:
        await conn.close()


async def test_malformed_requests_are_refused_as_problems(
    served: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    path = _events_path(admin, created["id"])
    async with httpx.AsyncClient(base_url=served, timeout=WAIT) as http:
        too_long = {**admin.headers, "Last-Event-ID": "1." * 60}
        assert_problem(await http.get(path, headers=too_long), 422, "invalid_request")
        not_an_id = _events_path(admin, "not-a-uuid")
        assert_problem(await http.get(not_an_id, headers=admin.headers), 422, "invalid_request")


async def test_a_change_noticed_while_a_stream_opens_is_read_again(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The import finishes between a stream's first read and its hold on the result: the
    notice that came meanwhile is not lost, the stream gets the finished state."""

    async def read(app_id: uuid.UUID, import_id: uuid.UUID) -> repository.ImportView | None:
        async with sessionmaker() as session:
            return await repository.get_view(session, app_id, import_id)

    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    import_id = uuid.UUID(created["id"])
    broker = Broker(read, max_streams=10, opening_at_once=1)
    subscription = broker.subscribe(import_id)
    before = await read(admin.app_id, import_id)  # the stream's first read: queued
    assert before is not None
    await run_worker()  # the import finishes; its notice reaches the broker before the read's end
    broker.reread_all()
    broker.found(subscription, admin.app_id, before)
    async with asyncio.timeout(10):
        while subscription.latest is None or not subscription.latest.finished:
            await subscription.wake.wait()
            subscription.wake.clear()
    assert subscription.latest.view.row.status == ImportStatus.COMPLETED.value


async def test_a_read_that_fails_is_tried_again_until_the_database_answers(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The database is away when the listener asks for a followed import again (after its own
    reconnect): the stream still gets the import's state once the database answers."""
    failures = 2

    async def read(app_id: uuid.UUID, import_id: uuid.UUID) -> repository.ImportView | None:
        nonlocal failures
        if failures:  # what a read raises while PostgreSQL restarts
            failures -= 1
            raise ConnectionRefusedError("the database is away")
        async with sessionmaker() as session:
            return await repository.get_view(session, app_id, import_id)

    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    import_id = uuid.UUID(created["id"])
    broker = Broker(read, max_streams=10, opening_at_once=1)
    subscription = broker.subscribe(import_id)
    async with sessionmaker() as session:
        before = await repository.get_view(session, admin.app_id, import_id)
    assert before is not None
    broker.found(subscription, admin.app_id, before)
    await run_worker()  # the import finishes while nobody listens
    broker.reread_all()
    async with asyncio.timeout(10):
        while subscription.latest is None or not subscription.latest.finished:
            await subscription.wake.wait()
            subscription.wake.clear()
    assert failures == 0
    assert subscription.latest.view.row.status == ImportStatus.COMPLETED.value


async def test_a_stream_is_timed_until_it_opens_not_until_it_ends(
    served: str, client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The request-duration histogram says how long a stream took to open: one followed for a
    while does not land in the slowest bucket."""
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    labels = {
        "method": "GET",
        "route": "/api/apps/{app}/imports/{import_id}/events",
        "status": "2xx",
    }
    duration = "caseimport_http_request_duration_seconds"

    async def scraped() -> tuple[float, float]:
        text = (await client.get("/metrics")).text
        return value(text, f"{duration}_count", **labels), value(text, f"{duration}_sum", **labels)

    count, total = await scraped()
    async with following(served, _events_path(admin, created["id"]), admin.headers) as events:
        assert _status(await events.next()) == "queued"
        await asyncio.sleep(1.5)  # followed: nothing happens to the import
    for _ in range(50):  # the server sees the client leave a moment later
        if (await scraped())[0] == count + 1:
            break
        await asyncio.sleep(0.1)
    after_count, after_total = await scraped()
    assert after_count == count + 1
    assert after_total - total < 1.0
