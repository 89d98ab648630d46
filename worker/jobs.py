"""The arq job: thin, and safe to run twice or at once.

Imports of one app run one at a time, in the order they were queued: the job waits for the
app's turn, then runs every import of the app queued before its own, then its own. Their own
jobs, when they come, find them finished and do nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.imports import lifecycle
from worker.context import WorkerContext, context_of
from worker.pipeline.runner import run_one


async def run_in_app_order(ctx: WorkerContext, import_id: uuid.UUID, attempt: int) -> None:
    place = await lifecycle.in_queue(ctx.pool, import_id, attempt)
    if place is None:
        return  # finished, cancelled, or superseded by a newer attempt
    async with lifecycle.app_turn(ctx.pool, place.app_id) as conn:
        while older := await lifecycle.next_older(conn, import_id, place):
            await run_one(ctx, older.import_id, older.attempt)
        await run_one(ctx, import_id, attempt)


async def run_import(ctx: dict[str, Any], import_id: str, attempt: int) -> None:
    """arq's entry point: the job carries only the import id and its attempt."""
    await run_in_app_order(context_of(ctx), uuid.UUID(import_id), attempt)
