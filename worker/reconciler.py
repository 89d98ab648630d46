"""Catches up what Redis lost or a dead worker dropped; PostgreSQL holds the truth.

- an import whose worker's lease expired is queued again with the next attempt (the fencing
  token), or failed once it has used up its attempts;
- a queued import whose job is no longer in the queue is enqueued again;
- idempotency keys older than their keeping time are forgotten.

One reconciler runs at a time across all workers, under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from api.config import Settings

log = logging.getLogger(__name__)

RECONCILER_LOCK = 0x6361_7365_696D_7001  # any fixed 64-bit key; "caseimp" in hex
# A queued import younger than this may still be on its way to the queue (enqueued after commit).
QUEUED_GRACE_SECONDS = 10

JobKnown = Callable[[uuid.UUID, int], Awaitable[bool]]
Enqueue = Callable[[uuid.UUID, int], Awaitable[None]]


async def reconcile(
    pool: asyncpg.Pool, settings: Settings, job_known: JobKnown, enqueue: Enqueue
) -> int:
    """One pass; returns how many imports were enqueued again."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RECONCILER_LOCK):
            return 0
        try:
            return await _pass(conn, settings, job_known, enqueue)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", RECONCILER_LOCK)


async def _pass(
    conn: asyncpg.Connection, settings: Settings, job_known: JobKnown, enqueue: Enqueue
) -> int:
    failed = await conn.fetch(
        """UPDATE imports SET status = 'failed', finished_at = now(), lease_until = NULL,
               error_count = 0,
               error_summary = 'The worker running this import stopped ' || attempt ||
                   ' times; nothing was applied. Upload the file again.'
           WHERE status IN ('validating', 'applying') AND lease_until < now()
             AND attempt >= $1
           RETURNING id""",
        settings.max_attempts,
    )
    for row in failed:
        log.warning("import %s gave up after its worker's lease expired", row["id"])
    expired = await conn.fetch(
        """UPDATE imports SET status = 'queued', attempt = attempt + 1, lease_until = NULL,
               rows_processed = 0, bytes_processed = 0
           WHERE status IN ('validating', 'applying') AND lease_until < now()
           RETURNING id, attempt"""
    )
    enqueued = 0
    for row in expired:
        log.warning(
            "import %s: lease expired, queued again as attempt %s", row["id"], row["attempt"]
        )
        await enqueue(row["id"], row["attempt"])
        enqueued += 1
    queued = await conn.fetch(
        """SELECT id, attempt FROM imports
           WHERE status = 'queued' AND queued_at < now() - make_interval(secs => $1)""",
        float(QUEUED_GRACE_SECONDS),
    )
    for row in queued:
        if not await job_known(row["id"], row["attempt"]):
            log.warning("import %s was queued but its job was lost; enqueued again", row["id"])
            await enqueue(row["id"], row["attempt"])
            enqueued += 1
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        settings.idempotency_hours,
    )
    return enqueued
