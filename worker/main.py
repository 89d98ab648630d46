"""The worker process: arq settings, resources made once at start-up, the reconciler loop.

arq is in maintenance mode, so it stays behind this module and ``api.queue``: jobs carry only
``(import_id, attempt)`` as JSON, and everything else lives in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, ClassVar

import asyncpg
from arq.jobs import Job, JobStatus

from api import queue
from api.config import Settings, get_settings
from worker.jobs import run_import
from worker.reconciler import reconcile

log = logging.getLogger(__name__)


def _context_functions(ctx: dict[str, Any]) -> None:
    redis = ctx["redis"]

    async def enqueue(import_id: uuid.UUID, attempt: int) -> None:
        await queue.enqueue(redis, import_id, attempt)

    async def job_known(import_id: uuid.UUID, attempt: int) -> bool:
        job = Job(queue.job_id(import_id, attempt), redis, _deserializer=queue.job_deserializer)
        status = await job.status()
        return status in (JobStatus.queued, JobStatus.deferred, JobStatus.in_progress)

    ctx["enqueue"] = enqueue
    ctx["job_known"] = job_known


async def _reconcile_forever(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    while True:
        try:
            await reconcile(ctx["pool"], settings, ctx["job_known"], ctx["enqueue"])
        except Exception:  # keep reconciling whatever one pass ran into
            log.exception("reconciler pass failed")
        await asyncio.sleep(settings.reconcile_seconds)


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    # Per running job: its own connection, one reading the file, one for the heartbeat; plus
    # the reconciler and the queue-order check.
    ctx["pool"] = await asyncpg.create_pool(
        settings.database_url, min_size=1, max_size=3 * settings.worker_concurrency + 2
    )
    _context_functions(ctx)
    if not ctx.get("no_reconciler"):
        ctx["reconciler"] = asyncio.create_task(_reconcile_forever(ctx))


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get("reconciler")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    pool = ctx.get("pool")
    if pool is not None:
        await pool.close()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [run_import]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = queue.redis_settings(get_settings().redis_url)
    job_serializer = staticmethod(queue.job_serializer)
    job_deserializer = staticmethod(queue.job_deserializer)
    max_jobs = get_settings().worker_concurrency
    # A million-row import takes seconds, not hours; the lease, not this, detects a dead worker.
    job_timeout = 3 * 3600
    # PostgreSQL decides what to retry (attempt numbers); arq never re-runs a failed job itself.
    max_tries = 1
    keep_result = 3600
    # How often an idle worker asks Redis for jobs: arq's 0.5 s default is most of the wait
    # between an upload and its first row; 0.1 s is ten cheap Redis calls a second.
    poll_delay = 0.1
