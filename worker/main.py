"""The worker process: arq's worker built from the settings, the typed context made once at
start-up, and the background loops: the reconciler, the purge of old files, and the sender of
webhooks.

arq is in maintenance mode, so it stays behind this module and ``api.queue``: jobs carry only
``(import_id, attempt)`` as JSON, and everything else lives in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Any

import asyncpg
from arq.worker import Worker
from redis.exceptions import RedisError

from api import queue
from api.config import Settings
from worker import metrics, metrics_server
from worker.context import WorkerContext, attach, close_context, detach, open_context
from worker.jobs import run_import
from worker.purge import purge_old_files
from worker.reconciler import reconcile
from worker.webhooks.sender import send_forever

log = logging.getLogger(__name__)

# Keys of arq's ctx beside the typed context: what the process was started with.
_SETTINGS = "settings"
_RECONCILER = "reconciler"
_PURGE = "purge"
_METRICS = "metrics_server"
_WEBHOOKS = "webhooks"
# Set in ctx, no background loop runs (tests call them instead).
NO_RECONCILER = "no_reconciler"
# How often a worker looks for files past their retention time (days of retention: an hour late
# is nothing).
PURGE_EVERY_SECONDS = 3600.0


# What a lost Redis raises (redis-py turns a connection lost during WATCH into a WatchError,
# which arq does not expect there); the worker waits for it to come back rather than exit.
_REDIS_LOST = (RedisError, OSError)
_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)


def _backoff(failures: int) -> float:
    """The wait after so many failures in a row: 0.5 s, then longer, up to 5 s."""
    return _BACKOFF_SECONDS[min(failures, len(_BACKOFF_SECONDS) - 1)]


class _Worker(Worker):
    """arq's worker, kept alive while Redis is away: a poll that fails waits (0.5 s, then
    longer, up to 5 s) and tries again, and the jobs running meanwhile go on, since they need
    only PostgreSQL."""

    _failed_polls = 0

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except _REDIS_LOST as exc:
            if not self._failed_polls:
                log.warning("Redis is unreachable (%s); waiting for it", exc)
            delay = _backoff(self._failed_polls)
            self._failed_polls += 1
            await asyncio.sleep(delay)
            return
        metrics.polled()
        if self._failed_polls:
            log.warning("Redis is back after %s failed polls", self._failed_polls)
            self._failed_polls = 0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            counted = self.job_counter
            try:
                await super().start_jobs([job_id])
            except _REDIS_LOST:
                # arq took a slot for the job before Redis failed: give it back.
                if self.job_counter > counted:
                    self.job_counter -= 1
                    self.sem.release()
                raise


async def _reconcile_forever(ctx: WorkerContext) -> None:
    while True:
        try:
            await reconcile(ctx)
        except Exception:  # keep reconciling whatever one pass ran into
            log.exception("reconciler pass failed")
        await asyncio.sleep(ctx.settings.reconcile_seconds)


async def _purge_forever(ctx: WorkerContext) -> None:
    while True:
        try:
            await purge_old_files(ctx.pool, ctx.settings.file_retention_days)
        except Exception:  # try again next time, whatever this time ran into
            log.exception("purging old files failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


async def startup(ctx: dict[str, Any]) -> None:
    ctx[_METRICS] = metrics_server.serve(ctx[_SETTINGS])
    context = await _opened_context(ctx[_SETTINGS], ctx["redis"])
    attach(ctx, context)
    if not ctx.get(NO_RECONCILER):
        ctx[_RECONCILER] = asyncio.create_task(_reconcile_forever(context))
        ctx[_PURGE] = asyncio.create_task(_purge_forever(context))
        if context.settings.webhooks_concurrency:
            ctx[_WEBHOOKS] = asyncio.create_task(send_forever(context.pool, context.settings))


async def _opened_context(settings: Settings, redis: Any) -> WorkerContext:
    """The context, once PostgreSQL answers: a worker started before its database waits."""
    failures = 0
    while True:
        try:
            return await open_context(settings, redis)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if not failures:
                log.warning("PostgreSQL is unreachable (%s); waiting for it", exc)
            await asyncio.sleep(_backoff(failures))
            failures += 1


async def shutdown(ctx: dict[str, Any]) -> None:
    for key in (_RECONCILER, _PURGE, _WEBHOOKS):
        task = ctx.get(key)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    context = detach(ctx)
    if context is not None:
        await close_context(context)
    if ctx.get(_METRICS) is not None:
        metrics_server.stop(ctx[_METRICS])


def make_worker(settings: Settings, **overrides: Any) -> Worker:
    """arq's worker for these settings; ``overrides`` are arq's own options (tests: burst)."""
    options: dict[str, Any] = {
        "functions": [run_import],
        "on_startup": startup,
        "on_shutdown": shutdown,
        # Redis down at start: try again every second for as long as it takes.
        "redis_settings": dataclasses.replace(
            queue.redis_settings(settings.redis_url), conn_retries=10**9, conn_retry_delay=1
        ),
        "job_serializer": queue.job_serializer,
        "job_deserializer": queue.job_deserializer,
        "max_jobs": settings.worker_concurrency,
        # A million-row import takes seconds, not hours; the lease, not this, detects a dead
        # worker.
        "job_timeout": 3 * 3600,
        # PostgreSQL decides what to retry (attempt numbers); arq never re-runs a job itself,
        # not even one cancelled by a stop (the import is handed back instead).
        "max_tries": 1,
        "retry_jobs": False,
        # A job is a wake-up: its result says nothing the database does not.
        "keep_result": 0,
        # How often an idle worker asks Redis for jobs: arq's 0.5 s would be most of the wait
        # between an upload and its first row.
        "poll_delay": 0.1,
    }
    extra_ctx = overrides.pop("ctx", {})
    options.update(overrides)
    options["ctx"] = {_SETTINGS: settings, **extra_ctx}
    worker = _Worker(**options)
    metrics.watch(worker)
    return worker
