"""The arq job: thin, and safe to run twice or at once.

A job is a wake-up for an import's app, not an order: PostgreSQL decides what runs. The job
takes the app's turn if no other worker has it (else it ends at once: the holder runs the app's
queue), then runs the app's imports one by one, oldest first, for as long as the oldest one
not finished is queued. An import still held by an attempt that broke off stops the app until
the reconciler queues it again.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg
from structlog.contextvars import bound_contextvars

from api.imports import lifecycle
from api.imports.status import ImportStatus
from api.pg import Connection
from worker.context import WorkerContext, context_of
from worker.pipeline.runner import run_one

log = logging.getLogger(__name__)


async def _run_queue(ctx: WorkerContext, conn: Connection, app_id: uuid.UUID) -> None:
    while True:
        try:
            head = await lifecycle.head_of_app(conn, app_id)
        except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            # The session holding the turn was ended (this worker was frozen past its lease)
            # or lost: the turn is gone with it, and another worker goes on.
            log.warning("lost the database session holding app %s's turn", app_id)
            return
        if head is None or head.status is not ImportStatus.QUEUED:
            return  # nothing queued, or an earlier attempt still holds it: nothing may start
        await run_one(ctx, conn, head.import_id, head.attempt)


async def run_app(ctx: WorkerContext, app_id: uuid.UUID) -> None:
    """Run the app's queued imports in order, unless another worker has the app's turn."""
    while True:
        async with lifecycle.app_turn(ctx.pool, app_id) as conn:
            if conn is None:
                return
            await _run_queue(ctx, conn, app_id)
        # An import queued while the turn was being let go found it taken: look once more.
        head = await lifecycle.head_of_app(ctx.pool, app_id)
        if head is None or head.status is not ImportStatus.QUEUED:
            return


async def run_import(ctx: dict[str, Any], import_id: str, attempt: int) -> None:
    """arq's entry point: the job carries only an import id and its attempt."""
    context = context_of(ctx)
    app_id = await lifecycle.app_of(context.pool, uuid.UUID(import_id))
    if app_id is not None:
        # The job runs the app's queue: each import binds its own id (worker/pipeline/runner.py).
        with bound_contextvars(app_id=str(app_id)):
            await run_app(context, app_id)
