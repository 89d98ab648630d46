"""Catches up what the queue lost or a dead worker dropped; PostgreSQL holds the truth.

- an import whose worker went silent past its lease has that worker's database session ended
  (``lifecycle.fence_expired``): a frozen worker then holds no app, and can change nothing
  when it wakes;
- an import whose worker's session is gone (the worker was killed, PostgreSQL restarted) or
  whose lease expired is queued again with the next attempt, or failed once too many attempts
  broke off (``lifecycle.expire_leases``);
- an app whose next import has waited in the queue while no worker has the app's turn is
  woken again (the queue may have lost its job);
- idempotency keys older than their keeping time are forgotten.

One reconciler runs at a time across all workers, under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging
import time

from api.imports import lifecycle
from api.pg import Connection, advisory_key
from worker.context import WorkerContext

log = logging.getLogger(__name__)

RECONCILER_LOCK = advisory_key("reconciler")
# A queued import younger than this may still be on its way to the queue (enqueued after commit).
QUEUED_GRACE_SECONDS = 10
# At most one waiting wake-up per import from the reconciler in this many seconds, however
# long the workers are busy elsewhere.
WAKE_EVERY_SECONDS = 30


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
    await lifecycle.fence_expired(conn)
    for item in await lifecycle.expire_leases(conn, settings.max_attempts):
        log.warning(
            "import %s: its worker stopped, queued again as attempt %s",
            item.import_id,
            item.attempt,
        )
        await ctx.queue.enqueue(item.import_id, item.attempt)
        enqueued += 1
    tag = f"r{int(time.time() // WAKE_EVERY_SECONDS)}"
    for app_id, item in await lifecycle.waiting_heads(conn, QUEUED_GRACE_SECONDS):
        if await lifecycle.app_is_idle(conn, app_id) and await ctx.queue.enqueue(
            item.import_id, item.attempt, tag
        ):
            log.warning("import %s waits in the queue with no worker on it: woken", item.import_id)
            enqueued += 1
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        settings.idempotency_hours,
    )
    return enqueued
