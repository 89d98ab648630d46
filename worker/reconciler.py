"""Catches up what the queue lost or a dead worker dropped; PostgreSQL holds the truth.

- an import whose worker's lease expired is queued again with the next attempt, or failed once
  it has used up its attempts (``lifecycle.expire_leases``);
- a queued import whose job the queue no longer knows is enqueued again;
- idempotency keys older than their keeping time are forgotten.

One reconciler runs at a time across all workers, under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging

from api.imports import lifecycle
from api.pg import Connection, advisory_key
from worker.context import WorkerContext

log = logging.getLogger(__name__)

RECONCILER_LOCK = advisory_key("reconciler")
# A queued import younger than this may still be on its way to the queue (enqueued after commit).
QUEUED_GRACE_SECONDS = 10


async def reconcile(ctx: WorkerContext) -> int:
    """One pass; returns how many imports were enqueued again."""
    async with ctx.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RECONCILER_LOCK):
            return 0
        try:
            return await _pass(ctx, conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", RECONCILER_LOCK)


async def _pass(ctx: WorkerContext, conn: Connection) -> int:
    settings = ctx.settings
    enqueued = 0
    for item in await lifecycle.expire_leases(conn, settings.max_attempts):
        log.warning(
            "import %s: lease expired, queued again as attempt %s", item.import_id, item.attempt
        )
        await ctx.queue.enqueue(item.import_id, item.attempt)
        enqueued += 1
    for item in await lifecycle.lost_in_queue(conn, QUEUED_GRACE_SECONDS):
        if not await ctx.queue.is_pending(item.import_id, item.attempt):
            log.warning("import %s was queued but its job was lost; enqueued again", item.import_id)
            await ctx.queue.enqueue(item.import_id, item.attempt)
            enqueued += 1
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        settings.idempotency_hours,
    )
    return enqueued
