"""One attempt at one import, end to end, in the order its events happen.

1. Claim the import for this attempt (queued → validating, with a lease), on the connection
   that holds the app's turn, or leave it alone.
2. Refresh the planner's statistics of the app's stored rows, outside any transaction.
3. In ONE transaction, with the heartbeat reporting progress (and applying) beside it:
   a fast path for a file expected to be clean, in a savepoint; if it refuses, the checked
   path; then complete or fail the import in the same transaction, so the rows and the status
   land together or not at all.
4. After anything unexpected, the retry-or-fail policy of ``lifecycle.after_crash``; when the
   worker is asked to stop, ``lifecycle.hand_back``.

No path commits: the runner owns the transaction, and every temporary table goes with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

import asyncpg
from structlog.contextvars import bound_contextvars

from api.import_types.registry import get_type
from api.imports import lifecycle
from api.imports.lifecycle import Claim, Counts
from api.imports.status import ImportStatus
from api.pg import Connection
from worker import metrics
from worker.context import WorkerContext
from worker.pipeline.errors import summarize
from worker.pipeline.heartbeat import ImportLost, Progress, heartbeat
from worker.pipeline.job import Job
from worker.pipeline.journal import Journal
from worker.pipeline.laps import Laps
from worker.pipeline.outcome import Completed, Failed, Outcome, Refused
from worker.pipeline.paths import batched, checked, direct, dry, plan, revert
from worker.pipeline.planner import refresh_if_stale
from worker.pipeline.source import file_chunks
from worker.pipeline.sql import statements_for

log = logging.getLogger(__name__)

FastPath = Callable[[Connection, Job, Progress], Awaitable[Outcome]]


async def run_one(ctx: WorkerContext, conn: Connection, import_id: uuid.UUID, attempt: int) -> None:
    """Run this attempt on ``conn``, the connection that holds the app's turn."""
    # Every line logged for the attempt names it, the heartbeat's included (a task started here).
    with bound_contextvars(import_id=str(import_id), attempt=attempt):
        await _attempt(ctx, conn, import_id, attempt)


async def _attempt(
    ctx: WorkerContext, conn: Connection, import_id: uuid.UUID, attempt: int
) -> None:
    settings = ctx.settings
    claim = await lifecycle.claim(conn, import_id, attempt, settings.worker_lease_seconds)
    if claim is None:
        return  # finished, cancelled, or owned by another run: nothing to do
    backend = conn.get_server_pid()
    journal = Journal(claim)
    started = time.monotonic()
    try:
        outcome = await _run(ctx, conn, claim)
    except ImportLost:
        journal.ended("lost")  # cancelled, or superseded by a newer attempt
        if await _cancelled(ctx, import_id):
            metrics.import_cancelled(claim, time.monotonic() - started)
        return
    except asyncio.CancelledError:
        await _hand_back(ctx, claim, backend)
        journal.ended("handed_back")
        raise
    except Exception:
        # Cancelled in the middle of a statement, asyncpg may raise its own error instead.
        if _stopping():
            await _hand_back(ctx, claim, backend)
            journal.ended("handed_back")
            raise asyncio.CancelledError from None
        log.exception("import %s attempt %s failed unexpectedly", import_id, attempt)
        metrics.attempt_broke_off(claim)
    else:
        # After the commit, outside the crash handling: a fault here is no broken attempt.
        journal.finished(outcome, None if outcome is None else _reconciled(claim, outcome))
        metrics.import_ended(claim, outcome, time.monotonic() - started)
        return
    async with ctx.pool.acquire() as other:
        requeued = await lifecycle.after_crash(other, claim, settings.max_attempts)
    journal.ended("requeued" if requeued is not None else "failed")
    if requeued is not None:
        await ctx.queue.enqueue(requeued.import_id, requeued.attempt)


async def _cancelled(ctx: WorkerContext, import_id: uuid.UUID) -> bool:
    """Whether a lost import was cancelled (rather than given to a newer attempt)."""
    try:
        async with ctx.pool.acquire() as other:
            status = await other.fetchval("SELECT status FROM imports WHERE id = $1", import_id)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False  # only a metric depends on it: not worth failing the job over
    return bool(status == ImportStatus.CANCELLED)


def _stopping() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _hand_back(ctx: WorkerContext, claim: Claim, backend: int) -> None:
    """The worker is stopping (SIGTERM): the attempt goes back to the queue at once for another
    worker, rather than waiting for its lease to run out."""
    async with ctx.pool.acquire() as other:
        queued = await lifecycle.hand_back(other, claim, backend)
    if queued is not None:
        log.warning(
            "import %s handed back as attempt %s: the worker is stopping",
            queued.import_id,
            queued.attempt,
        )
        await ctx.queue.enqueue(queued.import_id, queued.attempt)


async def _run(ctx: WorkerContext, conn: Connection, claim: Claim) -> Outcome | None:
    """The import's outcome, committed with its final state; None when it was given up."""
    if claim.plan_id is not None or claim.revert_of is not None:
        return await _in_one_transaction(
            ctx, conn, claim, lambda progress: _derived(ctx, claim, conn, progress)
        )
    import_type = get_type(claim.type_key)
    statements = statements_for(claim.type_key)
    file_id = claim.file_id
    if import_type is None or statements is None or file_id is None:
        await lifecycle.give_up(conn, claim, "The import has no file or no known type.")
        return None
    # Every statement of the import is planned after this.
    await refresh_if_stale(conn, statements.stored_table, claim.app_id)
    # The file is read on a connection of its own: the job's is busy writing rows.
    async with ctx.pool.acquire() as file_conn:
        job = Job(
            claim=claim,
            import_type=import_type,
            statements=statements,
            chunks=lambda: file_chunks(file_conn, file_id),
            today=date.today(),
            keep_errors=ctx.settings.max_kept_errors,
            clock=Laps(f"import {claim.import_id}"),
        )
        outcome = await _in_one_transaction(
            ctx, conn, claim, lambda progress: _outcome(conn, job, progress)
        )
        job.clock.lap("commit")
        job.clock.report()
        return outcome


async def _in_one_transaction(
    ctx: WorkerContext,
    conn: Connection,
    claim: Claim,
    outcome_of: Callable[[Progress], Awaitable[Outcome]],
) -> Outcome:
    """The outcome and the import's final state, in one transaction, with the heartbeat beside
    it; rolled back when the attempt no longer owns the import."""
    lease = ctx.settings.worker_lease_seconds
    async with heartbeat(ctx.pool, claim, lease) as progress, conn.transaction():
        # What an earlier file of this import recorded (a corrected file runs again).
        await conn.execute("DELETE FROM import_changes WHERE import_id = $1", claim.import_id)
        first_id = await conn.fetchval(_NEXT_CASE_ID)
        outcome = await outcome_of(progress)
        if progress.lost or not await _finish(conn, claim, outcome):
            raise ImportLost  # rolls back: nothing of this attempt remains
        if isinstance(outcome, Completed) and not claim.validate_only:
            await conn.execute(_CREATED_IDS, claim.import_id, first_id)
    return outcome


# The sequence only grows: the ids an import's write takes lie between its value before and
# after (other apps' imports may take some in between; they are told apart by created_by_import).
_NEXT_CASE_ID = "SELECT last_value FROM cases_id_seq"
_CREATED_IDS = f"""
    UPDATE imports SET created_ids = int8range($2, ({_NEXT_CASE_ID}), '[]') WHERE id = $1
"""


async def _derived(
    ctx: WorkerContext, claim: Claim, conn: Connection, progress: Progress
) -> Outcome:
    """An import made from another: a plan's apply, or a revert. No file is read."""
    if claim.plan_id is not None:
        return await plan.run(conn, claim, progress)
    return await revert.run(conn, claim, progress, ctx.settings.max_kept_errors)


async def _outcome(conn: Connection, job: Job, progress: Progress) -> Outcome:
    fast = _fast_path(job)
    if fast is not None:
        job.clock.path = "fast"
        try:
            async with conn.transaction():  # a savepoint: a refusal leaves nothing behind
                return await fast(conn, job, progress)
        except Refused:
            job.clock.lap("fast path, until refused")
    job.clock.path = "checked"
    return await checked.run(conn, job, progress)


def _fast_path(job: Job) -> FastPath | None:
    """The quicker way to the same result for a file expected to be clean, if the type has one.
    Skipping bad rows needs every row's verdict, which only the checked path gives."""
    statements, claim = job.statements, job.claim
    if claim.skip_bad_rows:
        return None
    if claim.validate_only:
        return dry.run if statements.dry_copy is not None else None
    if statements.direct_copy is not None:
        return direct.run
    if statements.batched is not None:
        return batched.run
    return None


def _reconciled(claim: Claim, outcome: Outcome) -> Counts | None:
    """The outcome's counts with what the reader skipped and the file they are of."""
    if outcome.counts is None:
        return None
    blank = outcome.read_as.blank_rows if outcome.read_as else 0
    return replace(outcome.counts, blank_rows=blank, sha256=claim.file_sha256)


async def _finish(conn: Connection, claim: Claim, outcome: Outcome) -> bool:
    """Complete or fail the import in the transaction of its rows; False when this attempt no
    longer owns it."""
    first = outcome.errors[0] if outcome.errors else None
    counts = _reconciled(claim, outcome)
    if isinstance(outcome, Failed):
        assert first is not None
        return await lifecycle.fail(
            conn,
            claim,
            counts=counts,
            errors=outcome.errors,
            error_count=outcome.error_count,
            error_rows=outcome.error_rows,
            error_groups=outcome.error_groups,
            summary=summarize(
                outcome.error_rows, first, file_level=outcome.counts is None, lead=outcome.lead
            ),
            warnings=outcome.warnings,
            read_as=outcome.read_as,
        )
    assert counts is not None
    return await lifecycle.complete(
        conn,
        claim,
        counts,
        errors=outcome.errors,
        error_count=outcome.error_count if first else None,
        error_rows=outcome.error_rows if first else None,
        error_groups=outcome.error_groups,
        summary=summarize(outcome.error_rows, first, file_level=False) if first else None,
        warnings=outcome.warnings,
        read_as=outcome.read_as,
    )
