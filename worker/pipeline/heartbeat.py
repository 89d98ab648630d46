"""A running import's live state, reported on a connection of its own.

The job's connection is busy in its one transaction, whose writes nobody sees before it
commits; this task reports what pollers watch at least twice a second (rows, bytes, and
validating → applying), renews the worker's lease so the reconciler knows the job is alive, and
notices when the import was cancelled or handed to a newer attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from api.imports import lifecycle
from api.imports.lifecycle import Claim
from api.imports.status import ImportStatus
from api.pg import Pool
from worker.pipeline.pg_settings import pg_settings

INTERVAL_SECONDS = 0.5


@dataclass
class Progress:
    rows: int = 0
    bytes: int = 0
    status: ImportStatus = ImportStatus.VALIDATING
    # Set by the heartbeat when the import is no longer this attempt's to run.
    lost: bool = False

    def applying(self) -> None:
        self.status = ImportStatus.APPLYING


class ImportLost(Exception):
    """The import was cancelled, or a newer attempt owns it: stop without writing anything."""


async def _beat(pool: Pool, claim: Claim, progress: Progress, lease: float) -> None:
    # A beat need not wait for its commit to reach the disk, where it would queue behind the
    # import's own writes: a beat lost in a crash is replaced by the next.
    async with pool.acquire() as conn, pg_settings(conn, {"synchronous_commit": "off"}):
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            alive = await lifecycle.beat(
                conn,
                claim,
                status=progress.status,
                rows=progress.rows,
                bytes_read=progress.bytes,
                lease_seconds=lease,
            )
            if not alive:
                progress.lost = True
                return
            # Beats at a steady pace, however long the last one took.
            await asyncio.sleep(max(0.0, INTERVAL_SECONDS - (loop.time() - started)))


@contextlib.asynccontextmanager
async def heartbeat(pool: Pool, claim: Claim, lease_seconds: float) -> AsyncIterator[Progress]:
    progress = Progress()
    task = asyncio.create_task(_beat(pool, claim, progress, lease_seconds))
    try:
        yield progress
    finally:
        task.cancel()
        # A heartbeat that failed (the database went away) has nothing to add: the job's own
        # connection fails the same way, and an expired lease lets the reconciler retry.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
