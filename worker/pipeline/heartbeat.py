"""Progress, lease and cancellation, on a connection of their own.

The job's main connection is busy copying and checking rows; this task reports progress at
least twice a second, renews the worker's lease (so the reconciler knows the job is alive), and
notices when the import was cancelled or handed to a newer attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

INTERVAL_SECONDS = 0.5


@dataclass
class Progress:
    rows: int = 0
    bytes: int = 0
    # Set by the heartbeat when the import is no longer this attempt's to run.
    lost: bool = False


class ImportLost(Exception):
    """The import was cancelled, or a newer attempt owns it: stop without writing anything."""


_BEAT = """
    UPDATE imports
    SET rows_processed = $3, bytes_processed = $4,
        lease_until = now() + make_interval(secs => $5)
    WHERE id = $1 AND attempt = $2 AND status = 'validating'
    RETURNING 1
"""


async def _beat(
    pool: asyncpg.Pool, import_id: uuid.UUID, attempt: int, progress: Progress, lease: float
) -> None:
    async with pool.acquire() as conn:
        # A beat need not wait for its commit to reach the disk, where it would queue behind the
        # import's own writes: a beat lost in a crash is replaced by the next. (The pool resets
        # the setting when the connection is released.)
        await conn.execute("SET synchronous_commit = off")
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            alive = await conn.fetchval(
                _BEAT, import_id, attempt, progress.rows, progress.bytes, lease
            )
            if not alive:
                progress.lost = True
                return
            # Beats at a steady pace, however long the last one took.
            await asyncio.sleep(max(0.0, INTERVAL_SECONDS - (loop.time() - started)))


@contextlib.asynccontextmanager
async def heartbeat(
    pool: asyncpg.Pool, import_id: uuid.UUID, attempt: int, lease_seconds: float
) -> AsyncIterator[Progress]:
    progress = Progress()
    task = asyncio.create_task(_beat(pool, import_id, attempt, progress, lease_seconds))
    try:
        yield progress
    finally:
        task.cancel()
        # A heartbeat that failed (the database went away) has nothing to add: the job's own
        # connection fails the same way, and an expired lease lets the reconciler retry.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
