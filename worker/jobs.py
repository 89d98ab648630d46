"""The arq job: thin, and safe to run twice or at once.

Imports of one app apply one at a time, in the order they were queued: the job holds the app's
advisory lock and first runs any import of that app queued before its own. Their own jobs, when
they come, find them finished and do nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import asyncpg

from api.config import Settings
from worker.pipeline.runner import Enqueue, run_one


def app_lock_key(app_id: uuid.UUID) -> int:
    digest = hashlib.sha256(b"caseimport-app:" + app_id.bytes).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_NEXT_OLDER = """
    SELECT id, attempt FROM imports
    WHERE app_id = $1 AND status = 'queued' AND (queued_at, id) < ($2, $3)
    ORDER BY queued_at, id LIMIT 1
"""


async def process_import(
    pool: asyncpg.Pool, settings: Settings, import_id: uuid.UUID, attempt: int, enqueue: Enqueue
) -> None:
    mine = await pool.fetchrow(
        "SELECT app_id, queued_at, status, attempt FROM imports WHERE id = $1", import_id
    )
    if mine is None or mine["status"] != "queued" or mine["attempt"] != attempt:
        return
    async with pool.acquire() as lock_conn:
        key = app_lock_key(mine["app_id"])
        await lock_conn.execute("SELECT pg_advisory_lock($1)", key)
        try:
            while older := await lock_conn.fetchrow(
                _NEXT_OLDER, mine["app_id"], mine["queued_at"], import_id
            ):
                await run_one(pool, settings, older["id"], older["attempt"], enqueue)
            await run_one(pool, settings, import_id, attempt, enqueue)
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock($1)", key)


async def run_import(ctx: dict[str, Any], import_id: str, attempt: int) -> None:
    """arq entry point: the job carries only the import id and its attempt."""
    await process_import(
        ctx["pool"], ctx["settings"], uuid.UUID(import_id), attempt, ctx["enqueue"]
    )
