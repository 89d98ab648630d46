"""The job's guarantees: at-least-once execution, exactly-once effect, per-app order, and the
reconciler catching up what Redis lost or a dead worker left."""

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
from tests.factories import admin_setup
from tests.importing import ADD_HEADER, cases_by_tag, count_cases, get_import, upload
from tests.worker_harness import run_worker
from worker.context import WorkerContext, close_context, open_context
from worker.jobs import run_in_app_order
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


async def run_job(ctx: WorkerContext, import_id: str, attempt: int) -> None:
    await run_in_app_order(ctx, uuid.UUID(import_id), attempt)


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
    await run_job(ctx, created["id"], 1)
    after = await db_row(ctx, created["id"])
    assert dict(after) == dict(before)
    assert await count_cases(sessionmaker) == 2


async def test_two_runs_at_once_apply_once(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await asyncio.gather(run_job(ctx, created["id"], 1), run_job(ctx, created["id"], 1))
    done = await get_import(client, admin, created["id"])
    assert done["status"] == "completed"
    assert done["result"]["created"] == 2
    assert await count_cases(sessionmaker) == 2


async def test_a_superseded_attempt_does_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    await ctx.pool.execute("UPDATE imports SET attempt = 2 WHERE id = $1", uuid.UUID(created["id"]))
    await run_job(ctx, created["id"], 1)
    assert (await db_row(ctx, created["id"]))["status"] == "queued"
    assert await count_cases(sessionmaker) == 0


async def test_imports_of_one_app_apply_in_queue_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], ctx: WorkerContext
) -> None:
    admin = await admin_setup(sessionmaker)
    add = await upload(client, admin, GOOD, name="add")
    modify = await upload(
        client, admin, b"tag_id,case_status\r\nA-1,0\r\n", name="modify", type_="cases.modify"
    )
    # The later job runs first: it applies the earlier import before its own.
    await run_job(ctx, modify["id"], 1)
    assert (await get_import(client, admin, add["id"]))["status"] == "completed"
    done = await get_import(client, admin, modify["id"])
    assert done["status"] == "completed", done
    assert done["result"]["updated"] == 1
    assert (await cases_by_tag(sessionmaker))["A-1"].case_status == 0
    # The earlier import's own job then finds it finished.
    await run_job(ctx, add["id"], 1)
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
    await run_job(ctx, created["id"], 1)  # the dead worker's attempt, if it came back
    assert (await db_row(ctx, created["id"]))["status"] == "queued"
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
        "UPDATE imports SET status = 'applying', attempt = $2, "
        "lease_until = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(created["id"]),
        ctx.settings.max_attempts,
    )
    await reconcile(ctx)
    done = await get_import(client, admin, created["id"])
    assert done["status"] == "failed"
    assert "nothing was applied" in done["error"]["summary"]


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
    job = asyncio.create_task(run_job(ctx, created["id"], 1))
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
    await queue.enqueue(redis, import_id, 3)
    raw = await redis.get(f"arq:job:{queue.job_id(import_id, 3)}")
    assert raw is not None
    job = queue.job_deserializer(raw)
    assert (job["f"], job["a"]) == ("run_import", [str(import_id), 3])
