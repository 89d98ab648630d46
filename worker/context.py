"""What every job of a worker process shares, made once in ``startup()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from arq import ArqRedis

from api.config import Settings
from api.pg import Pool
from api.queue import JobQueue

_KEY = "caseimport"


@dataclass(frozen=True, slots=True)
class WorkerContext:
    settings: Settings
    pool: Pool
    queue: JobQueue


async def open_context(settings: Settings, redis: ArqRedis) -> WorkerContext:
    """The context over arq's own Redis client and a new pool of database connections."""
    # Per running job: the one holding the app's turn and running the attempt, one reading the
    # file, one for the heartbeat, one for a crash's or a stop's transition; plus the
    # reconciler and a short lookup; and one per webhook sent at once. Opened as needed.
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=4 * settings.worker_concurrency + 2 + settings.webhooks_concurrency,
    )
    return WorkerContext(settings, pool, JobQueue(redis))


async def close_context(context: WorkerContext) -> None:
    await context.pool.close()


def attach(ctx: dict[str, Any], context: WorkerContext) -> None:
    ctx[_KEY] = context


def context_of(ctx: Mapping[str, Any]) -> WorkerContext:
    """The typed context inside arq's dict."""
    context = ctx[_KEY]
    assert isinstance(context, WorkerContext)
    return context


def detach(ctx: dict[str, Any]) -> WorkerContext | None:
    context = ctx.pop(_KEY, None)
    assert context is None or isinstance(context, WorkerContext)
    return context
