"""The job's guarantees: at-least-once execution, exactly-once effect, per-app order decided by
PostgreSQL, no worker waiting for an app, a stopping worker handing its import back, and the
reconciler catching up what Redis lost or a dead, killed or frozen worker left."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from arq import ArqRedis
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import queue
from api.config import Settings
from api.imports import lifecycle
from api.pg import advisory_key
from tests.factories import admin_setup
from tests.importing import ADD_HEADER, cases_by_tag, count_cases, get_import, upload
from tests.worker_harness import run_worker
from worker.context import WorkerContext, close_context, open_context
from worker.jobs import run_app
from worker.reconciler import reconcile

GOOD = (ADD_HEADER + "A-1,1,1/2/2024,One\r\nA-2,0,1/3/2024,Two\r\n").encode()


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[WorkerContext]:
    """What the worker's start-up makes: the pool and the queue."""
    redis = await queue.connect(settings.redis_url)
    context = await open_context(settings, redis)
    yield context
    await close_context(context)
    await redis.aclose()


async def app_of(ctx: WorkerContext, import_id: str) -> uuid.UUID:
    app_id = await lifecycle.app_of(ctx.pool, uuid.UUID(import_id))
    assert app_id is not None
    return app_id


async def run_job(ctx: WorkerContext, import_id: str) -> None:
    """What a job for this import does: run its app's queue, if no one else is."""
    await run_app(ctx, await app_of(ctx, import_id))


async def db_row(ctx: WorkerContext, import_id: str) -> asyncpg.Record:
    row = await ctx.pool.fetchrow("SELECT * FROM imports WHERE id = $1", uuid.UUID(import_id))
    assert row is not None
    return row


async def test_second_run_of_a_finished_job_changes_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await run_worker()
    before = await db_row(ctx, created["id"])
    assert before["status"] == "completed"
    await run_job(ctx, created["id"])
    after = await db_row(ctx, created["id"])
    assert dict(after) == dict(before)
    assert await count_cases(sessionmaker) == 2


async def test_two_runs_at_once_apply_once(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await asyncio.gather(run_job(ctx, created["id"]), run_job(ctx, created["id"]))
    done = await get_import(client, admin, created["id"])
    assert done["status"] == "completed"
    assert done["result"]["created"] == 2
    assert await count_cases(sessionmaker) == 2


async def test_a_superseded_attempt_cannot_claim(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    import_id = uuid.UUID(created["id"])
    await ctx.pool.execute("UPDATE imports SET attempt = 2 WHERE id = $1", import_id)
    async with ctx.pool.acquire() as conn:
        assert await lifecycle.claim(conn, import_id, 1, 20) is None
    assert (await db_row(ctx, created["id"]))["status"] == "queued"
    # A job names an attempt, but runs what the database says: the current one.
    await run_job(ctx, created["id"])
    assert (await db_row(ctx, created["id"]))["status"] == "completed"
    assert await count_cases(sessionmaker) == 2


async def test_imports_of_one_app_apply_in_queue_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    add = await upload(client, admin, GOOD, name="add")
    modify = await upload(
        client, admin, b"tag_id,case_status\r\nA-1,0\r\n", name="modify", type_="cases.modify"
    )
    # The later job runs first: it applies the earlier import before its own.
    await run_job(ctx, modify["id"])
    assert (await get_import(client, admin, add["id"]))["status"] == "completed"
    done = await get_import(client, admin, modify["id"])
    assert done["status"] == "completed", done
    assert done["result"]["updated"] == 1
    assert (await cases_by_tag(sessionmaker))["A-1"].case_status == 0
    # The earlier import's own job then finds it finished.
    await run_job(ctx, add["id"])
    assert await count_cases(sessionmaker) == 2


async def test_reconciler_enqueues_an_import_redis_lost(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await ctx.queue.redis.flushdb()  # Redis lost the job
    await ctx.pool.execute(
        "UPDATE imports SET queued_at = now() - interval '1 minute' WHERE id = $1",
        uuid.UUID(created["id"]),
    )
    assert await reconcile(ctx) == 1
    # A job still in the queue is left alone.
    assert await reconcile(ctx) == 0
    await run_worker()
    assert (await get_import(client, admin, created["id"]))["status"] == "completed"


async def test_reconciler_retries_an_import_whose_worker_died(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await ctx.queue.redis.flushdb()
    # A worker claimed it, then vanished: its lease ran out.
    await ctx.pool.execute(
        "UPDATE imports SET status = 'validating', lease_until = now() - interval '1 second' "
        "WHERE id = $1",
        uuid.UUID(created["id"]),
    )
    assert await reconcile(ctx) == 1
    row = await db_row(ctx, created["id"])
    assert (row["status"], row["attempt"]) == ("queued", 2)
    async with ctx.pool.acquire() as conn:  # the dead worker's attempt, if it came back
        assert await lifecycle.claim(conn, uuid.UUID(created["id"]), 1, 20) is None
    await run_worker()
    done = await get_import(client, admin, created["id"])
    assert done["status"] == "completed"
    assert await count_cases(sessionmaker) == 2


async def test_an_import_that_keeps_losing_its_worker_fails(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await ctx.pool.execute(
        "UPDATE imports SET status = 'applying', attempt = $2, crashes = $2 - 1, "
        "lease_until = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(created["id"]),
        ctx.settings.max_attempts,
    )
    await reconcile(ctx)
    done = await get_import(client, admin, created["id"])
    assert done["status"] == "failed"
    summary = done["error"]["summary"]
    assert f"stopped {ctx.settings.max_attempts} times" in summary
    assert "nothing was applied" in summary


async def test_upload_with_redis_down_is_kept_and_runs_later(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    ctx: WorkerContext,
    app: Any,
) -> None:
    admin = await admin_setup(sessionmaker)
    working = app.state.redis
    app.state.redis = await queue.connect("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        created = await upload(client, admin, GOOD)
        ready = await client.get("/readyz")
    finally:
        await app.state.redis.aclose()
        app.state.redis = working
    assert created["status"] == "queued"
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "unavailable"}
    await ctx.pool.execute("UPDATE imports SET queued_at = now() - interval '1 minute'")
    assert await reconcile(ctx) == 1
    await run_worker()
    assert (await get_import(client, admin, created["id"]))["status"] == "completed"


async def test_cancel_while_validating_stops_the_job(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    rows = "".join(f"T-{n},1,1/2/2024,Case number {n}\r\n" for n in range(150_000))
    created = await upload(client, admin, (ADD_HEADER + rows).encode())
    job = asyncio.create_task(run_job(ctx, created["id"]))
    seen = "queued"
    for _ in range(1000):
        seen = (await get_import(client, admin, created["id"]))["status"]
        if seen == "validating":
            break
        await asyncio.sleep(0.005)
    assert seen == "validating"  # cancelled mid-read, not before the job began
    cancel = await client.post(
        f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
    )
    assert cancel.status_code == 200, cancel.text
    await job
    assert (await get_import(client, admin, created["id"]))["status"] == "cancelled"
    assert await count_cases(sessionmaker) == 0


async def test_enqueue_is_json_not_pickle(ctx: WorkerContext) -> None:
    redis: ArqRedis = ctx.queue.redis
    import_id = uuid.uuid4()
    await queue.enqueue(redis, import_id, 3, "tag")
    raw = await redis.get(f"arq:job:{queue.job_id(import_id, 3, 'tag')}")
    assert raw is not None
    job = queue.job_deserializer(raw)
    assert (job["f"], job["a"]) == ("run_import", [str(import_id), 3])


def _big_add(rows: int) -> bytes:
    return (ADD_HEADER + "".join(f"T-{n},1,1/2/2024,Case {n}\r\n" for n in range(rows))).encode()


async def _until(ctx: WorkerContext, import_id: str, status: str) -> None:
    for _ in range(2000):
        if (await db_row(ctx, import_id))["status"] == status:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"import {import_id} never became {status}")


async def test_a_job_does_not_wait_for_an_app_another_worker_has(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    app_id = await app_of(ctx, created["id"])
    async with lifecycle.app_turn(ctx.pool, app_id) as held:  # another worker's turn
        assert held is not None
        await asyncio.wait_for(run_job(ctx, created["id"]), timeout=5)
        assert (await db_row(ctx, created["id"]))["status"] == "queued"
    await run_job(ctx, created["id"])
    assert (await db_row(ctx, created["id"]))["status"] == "completed"


async def test_a_later_import_waits_while_an_earlier_one_is_held_by_a_lost_worker(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    add = await upload(client, admin, GOOD, name="add")
    modify = await upload(
        client, admin, b"tag_id,case_status\r\nA-1,0\r\n", name="modify", type_="cases.modify"
    )
    # A worker claimed the add and was killed; its lease has not run out yet.
    await ctx.pool.execute(
        "UPDATE imports SET status = 'validating', lease_until = now() + interval '1 minute' "
        "WHERE id = $1",
        uuid.UUID(add["id"]),
    )
    await run_job(ctx, modify["id"])
    assert (await db_row(ctx, modify["id"]))["status"] == "queued"
    assert await count_cases(sessionmaker) == 0
    # Once the reconciler gives the add back to the queue, both run, the add first.
    await ctx.pool.execute("UPDATE imports SET lease_until = now() - interval '1 second'")
    assert await reconcile(ctx) == 1
    await run_job(ctx, modify["id"])
    assert (await get_import(client, admin, add["id"]))["result"]["created"] == 2
    assert (await get_import(client, admin, modify["id"]))["result"]["updated"] == 1


async def test_a_killed_workers_import_is_queued_again_without_waiting_for_its_lease(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    gone = await asyncpg.connect(ctx.settings.database_url)
    pid = gone.get_server_pid()
    await ctx.pool.execute(
        "UPDATE imports SET status = 'validating', started_at = now(), worker_pid = $2, "
        "lease_until = now() + interval '1 minute' WHERE id = $1",
        uuid.UUID(created["id"]),
        pid,
    )
    assert await reconcile(ctx) == 0  # its session is alive: the worker is working
    await gone.close()  # what a killed process's connection does
    for _ in range(200):
        if not await ctx.pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid=$1", pid):
            break
        await asyncio.sleep(0.01)
    assert await reconcile(ctx) == 1
    row = await db_row(ctx, created["id"])
    assert (row["status"], row["attempt"], row["crashes"]) == ("queued", 2, 1)


async def test_a_frozen_workers_session_is_ended_when_its_lease_expires(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    app_id = await app_of(ctx, created["id"])
    frozen = await asyncpg.connect(ctx.settings.database_url)
    key = advisory_key("app", app_id)
    await frozen.execute("SELECT pg_advisory_lock($1)", key)  # it holds the app's turn
    await frozen.execute("BEGIN")  # and its transaction is open
    await ctx.pool.execute(
        "UPDATE imports SET status = 'applying', started_at = now(), worker_pid = $2, "
        "lease_until = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(created["id"]),
        frozen.get_server_pid(),
    )
    assert await reconcile(ctx) == 1
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        await frozen.execute("SELECT 1")  # its session was ended
    await frozen.close()
    await run_job(ctx, created["id"])  # the turn is free: another worker runs it
    assert (await get_import(client, admin, created["id"]))["status"] == "completed"
    assert await count_cases(sessionmaker) == 2


async def test_a_stopping_worker_hands_its_import_back_at_once(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, _big_add(150_000))
    job = asyncio.create_task(run_job(ctx, created["id"]))
    await _until(ctx, created["id"], "validating")
    job.cancel()  # what arq does on SIGTERM
    with pytest.raises(asyncio.CancelledError):
        await job
    row = await db_row(ctx, created["id"])
    # Queued again for another worker, not left for its lease; a stop is not a crash.
    assert (row["status"], row["attempt"], row["crashes"], row["worker_pid"]) == (
        "queued",
        2,
        0,
        None,
    )
    assert await count_cases(sessionmaker) == 0
    await run_job(ctx, created["id"])  # another worker finds the app's turn free
    assert (await get_import(client, admin, created["id"]))["result"]["created"] == 150_000


async def test_a_waiting_import_is_woken_only_when_no_worker_has_its_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await ctx.queue.redis.flushdb()
    await ctx.pool.execute("UPDATE imports SET queued_at = now() - interval '1 minute'")
    app_id = await app_of(ctx, created["id"])
    async with lifecycle.app_turn(ctx.pool, app_id) as held:
        assert held is not None
        assert await reconcile(ctx) == 0  # the worker that has the app runs its queue
    assert await reconcile(ctx) == 1
