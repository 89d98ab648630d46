"""The worker process: arq's worker built from the settings, the typed context made once at
start-up, and the reconciler loop.

arq is in maintenance mode, so it stays behind this module and ``api.queue``: jobs carry only
``(import_id, attempt)`` as JSON, and everything else lives in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.worker import Worker

from api import queue
from api.config import Settings
from worker.context import WorkerContext, attach, close_context, detach, open_context
from worker.jobs import run_import
from worker.reconciler import reconcile

log = logging.getLogger(__name__)

# Keys of arq's ctx beside the typed context: what the process was started with.
_SETTINGS = "settings"
_RECONCILER = "reconciler"
NO_RECONCILER = "no_reconciler"


async def _reconcile_forever(ctx: WorkerContext) -> None:
    while True:
        try:
            await reconcile(ctx)
        except Exception:  # keep reconciling whatever one pass ran into
            log.exception("reconciler pass failed")
        await asyncio.sleep(ctx.settings.reconcile_seconds)


async def startup(ctx: dict[str, Any]) -> None:
    context = await open_context(ctx[_SETTINGS], ctx["redis"])
    attach(ctx, context)
    if not ctx.get(NO_RECONCILER):
        ctx[_RECONCILER] = asyncio.create_task(_reconcile_forever(context))


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get(_RECONCILER)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    context = detach(ctx)
    if context is not None:
        await close_context(context)


def make_worker(settings: Settings, **overrides: Any) -> Worker:
    """arq's worker for these settings; ``overrides`` are arq's own options (tests: burst)."""
    options: dict[str, Any] = {
        "functions": [run_import],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": queue.redis_settings(settings.redis_url),
        "job_serializer": queue.job_serializer,
        "job_deserializer": queue.job_deserializer,
        "max_jobs": settings.worker_concurrency,
        # A million-row import takes seconds, not hours; the lease, not this, detects a dead
        # worker.
        "job_timeout": 3 * 3600,
        # PostgreSQL decides what to retry (attempt numbers); arq never re-runs a job itself.
        "max_tries": 1,
        "keep_result": 3600,
        # How often an idle worker asks Redis for jobs: arq's 0.5 s would be most of the wait
        # between an upload and its first row.
        "poll_delay": 0.1,
    }
    extra_ctx = overrides.pop("ctx", {})
    options.update(overrides)
    options["ctx"] = {_SETTINGS: settings, **extra_ctx}
    return Worker(**options)
