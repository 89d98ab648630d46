"""One import, end to end: claim it, read and check its file, then apply it or fail it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from api.config import Settings
from api.import_types.base import DirectCopy, ImportType, Outcome
from api.import_types.registry import get_type
from api.import_types.row_error import RowError
from worker.pipeline import planner, stage
from worker.pipeline.batches import apply_in_batches
from worker.pipeline.errors import ErrorCollector, summarize
from worker.pipeline.finish import Apply, finish, move
from worker.pipeline.heartbeat import ImportLost, Progress, heartbeat
from worker.pipeline.laps import Laps
from worker.pipeline.read import RowsRejected, read_into_staging, read_into_table
from worker.pipeline.source import file_chunks

log = logging.getLogger(__name__)

Enqueue = Callable[[uuid.UUID, int], Awaitable[None]]

_CLAIM = """
    UPDATE imports
    SET status = 'validating', started_at = now(), finished_at = NULL,
        lease_until = now() + make_interval(secs => $3),
        rows_processed = 0, bytes_processed = 0, rows_total = NULL
    WHERE id = $1 AND attempt = $2 AND status = 'queued'
    RETURNING id, app_id, type, file_id, validate_only, on_error
"""


@dataclass(frozen=True, slots=True)
class Job:
    import_id: uuid.UUID
    attempt: int
    app_id: uuid.UUID
    import_type: ImportType
    file_id: uuid.UUID
    validate_only: bool
    skip_bad_rows: bool


def _in_file_order(import_type: ImportType, errors: list[RowError]) -> list[RowError]:
    order = {c.name: i for i, c in enumerate(import_type.columns)}
    return sorted(errors, key=lambda e: (e.line or 0, order.get(e.column or "", -1)))


async def run_one(
    pool: asyncpg.Pool,
    settings: Settings,
    import_id: uuid.UUID,
    attempt: int,
    enqueue: Enqueue,
) -> None:
    async with pool.acquire() as conn:
        claimed = await conn.fetchrow(
            _CLAIM, import_id, attempt, float(settings.worker_lease_seconds)
        )
        if claimed is None:
            return  # finished, cancelled, or owned by another attempt: nothing to do
        import_type = get_type(claimed["type"])
        if import_type is None or claimed["file_id"] is None:
            await _fail_internal(
                conn, import_id, attempt, "The import has no file or no known type."
            )
            return
        job = Job(
            # The ids as asyncpg returns them, in its own UUID type (a uuid.UUID): an add
            # copies the import's id into each case twice, and asyncpg encodes its own type
            # about three times faster (a second of a million-row add's CPU here).
            import_id=claimed["id"],
            attempt=attempt,
            app_id=claimed["app_id"],
            import_type=import_type,
            file_id=claimed["file_id"],
            validate_only=claimed["validate_only"],
            skip_bad_rows=claimed["on_error"] == "skip",
        )
        try:
            await _run(conn, pool, settings, job)
        except ImportLost:
            log.info("import %s attempt %s was cancelled or superseded", import_id, attempt)
        except Exception:
            log.exception("import %s attempt %s failed unexpectedly", import_id, attempt)
            await _retry_or_fail(pool, settings, import_id, attempt, enqueue)
        finally:
            if not conn.is_closed():
                await stage.drop_tables(conn)


async def _run(conn: asyncpg.Connection, pool: asyncpg.Pool, settings: Settings, job: Job) -> None:
    # Before any statement of the import is planned, outside its transaction (see planner.py).
    await planner.refresh_if_stale(conn, job.import_type.stored_table, job.app_id)
    # The file is read on a connection of its own: the job's connection is busy writing rows.
    async with pool.acquire() as file_conn:
        chunks = lambda: file_chunks(file_conn, job.file_id)  # noqa: E731
        fast = None if job.skip_bad_rows else _fast_path(job, chunks)
        if fast is not None and await _run_fast(conn, file_conn, pool, settings, job, fast):
            return
        await _run_checked(conn, chunks, pool, settings, job)


# Writes a clean file's rows in the job's transaction; answers (rows, rows changed), or raises
# RowsRejected (or a constraint's error) when the file needs the checked path.
FastWrite = Callable[[asyncpg.Connection, Progress], Awaitable[tuple[int, int]]]


def _fast_path(job: Job, chunks: Callable[[], AsyncIterator[bytes]]) -> FastWrite | None:
    """How the type applies (or, for validate_only, checks) a file expected to be clean, if it
    has a fast path for that."""
    if job.validate_only:
        dry = job.import_type.dry_copy()
        return None if dry is None else _copy_into(dry, job, chunks)
    direct = job.import_type.direct_copy(job.app_id, job.import_id)
    if direct is not None:
        return _copy_into(direct, job, chunks)
    batched = job.import_type.batched_apply()
    if batched is not None:

        async def apply(conn: asyncpg.Connection, progress: Progress) -> tuple[int, int]:
            # Swaps of descriptions between cases are checked once all batches are in.
            await conn.execute("SET CONSTRAINTS ALL DEFERRED")
            await stage.create_tables(conn, job.import_type)
            await stage.create_batch_tables(conn, batched.kept_columns)
            applied = await apply_in_batches(
                conn, chunks, job.import_type, batched, job.app_id, job.import_id, progress
            )
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            return applied.rows, applied.changed

        return apply
    return None


def _copy_into(
    target: DirectCopy, job: Job, chunks: Callable[[], AsyncIterator[bytes]]
) -> FastWrite:
    async def copy(conn: asyncpg.Connection, progress: Progress) -> tuple[int, int]:
        if target.create_sql:
            await conn.execute(target.create_sql)
        read = await read_into_table(conn, chunks, job.import_type, target, progress, date.today())
        if target.refused_sql and await conn.fetchval(target.refused_sql, job.app_id):
            raise RowsRejected
        return read.rows, read.rows

    return copy


async def _run_fast(
    conn: asyncpg.Connection,
    file_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    settings: Settings,
    job: Job,
    write: FastWrite,
) -> bool:
    """The fast path: write the rows in one transaction, and commit if every row was valid and
    nothing objected. False when the file has a problem: nothing was written, and the checked
    path then reports every problem of the file."""
    clock = Laps(f"import {job.import_id} (fast)")
    tx = conn.transaction()
    await tx.start()
    try:
        async with heartbeat(
            pool, job.import_id, job.attempt, settings.worker_lease_seconds
        ) as progress:
            try:
                rows, changed = await write(conn, progress)
            except (RowsRejected, asyncpg.IntegrityConstraintViolationError):
                await tx.rollback()
                clock.lap("write, until refused")
                clock.report()
                return False
            clock.lap("write")
            if progress.lost:
                raise ImportLost
        # Committed at once (another connection), so that pollers see the import applying.
        if not await move(file_conn, job.import_id, job.attempt, to="applying", from_="validating"):
            raise ImportLost
        counts = _counts(rows, failed=0)
        result = _with_outcome(counts, job.import_type.outcome(changed, rows))
        await _complete(conn, job, rows, result=result)
        await tx.commit()
        clock.lap("commit")
        clock.report()
        return True
    except BaseException:
        if not conn.is_closed() and conn.is_in_transaction():
            await tx.rollback()
        raise


async def _run_checked(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    pool: asyncpg.Pool,
    settings: Settings,
    job: Job,
) -> None:
    """Stage every row, check them all in SQL, then fail with every error or apply."""
    keep = settings.max_kept_errors
    collector = ErrorCollector(keep)
    clock = Laps(f"import {job.import_id} (checked)")
    await stage.create_tables(conn, job.import_type)
    async with heartbeat(
        pool, job.import_id, job.attempt, settings.worker_lease_seconds
    ) as progress:
        read = await read_into_staging(
            conn, chunks, job.import_type, progress, collector, date.today()
        )
        if read.file_errors:
            errors = read.file_errors[:keep]
            await finish(
                conn,
                job.import_id,
                job.attempt,
                expect="validating",
                status="failed",
                rows=None,
                result=None,
                errors=errors,
                error_count=len(read.file_errors),
                summary=summarize(len(read.file_errors), errors[0], file_level=True),
            )
            return
        clock.lap("read")
        await stage.run_checks(conn, job.import_type, job.app_id, skip_bad_rows=job.skip_bad_rows)
        clock.lap("checks")
        if progress.lost:
            raise ImportLost

    sql_bad, sql_errors = await stage.sql_errors(conn, keep)
    clock.lap("errors")
    error_rows = collector.bad_rows + sql_bad
    errors = _in_file_order(job.import_type, collector.kept + sql_errors)[:keep]
    summary = summarize(error_rows, errors[0], file_level=False) if errors else None
    counts = _counts(read.rows, failed=error_rows)

    if error_rows and not job.skip_bad_rows:
        await finish(
            conn,
            job.import_id,
            job.attempt,
            expect="validating",
            status="failed",
            rows=read.rows,
            result=counts,
            errors=errors,
            error_count=error_rows,
            summary=summary,
        )
        clock.lap("fail")
        clock.report()
        return

    good = await stage.good_rows(conn)

    async def apply() -> dict[str, Any]:
        changed = await stage.apply(
            conn,
            job.import_type,
            job.app_id,
            job.import_id,
            dry_run=job.validate_only,
            good=good,
        )
        return _with_outcome(counts, job.import_type.outcome(changed, good))

    if not await move(conn, job.import_id, job.attempt, to="applying", from_="validating"):
        raise ImportLost
    await _complete(
        conn,
        job,
        read.rows,
        errors=errors,
        error_count=error_rows if errors else None,
        summary=summary,
        apply=apply,
    )
    clock.lap("apply")
    clock.report()


def _counts(rows: int, *, failed: int) -> dict[str, Any]:
    return {"rows": rows, "created": 0, "updated": 0, "unchanged": 0, "failed": failed}


def _with_outcome(counts: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    return {
        **counts,
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
    }


async def _complete(
    conn: asyncpg.Connection,
    job: Job,
    rows: int,
    *,
    result: dict[str, Any] | None = None,
    errors: list[RowError] | None = None,
    error_count: int | None = None,
    summary: str | None = None,
    apply: Apply | None = None,
) -> None:
    """Mark an applying import completed (applying its rows first, when ``apply`` is given)."""
    done = await finish(
        conn,
        job.import_id,
        job.attempt,
        expect="applying",
        status="completed",
        rows=rows,
        result=result,
        errors=errors or [],
        error_count=error_count,
        summary=summary,
        apply=apply,
    )
    if not done:
        raise ImportLost


async def _fail_internal(
    conn: asyncpg.Connection, import_id: uuid.UUID, attempt: int, reason: str
) -> None:
    await conn.execute(
        """UPDATE imports SET status = 'failed', error_summary = $3, error_count = 0,
               finished_at = now(), lease_until = NULL
           WHERE id = $1 AND attempt = $2 AND status IN ('queued', 'validating', 'applying')""",
        import_id,
        attempt,
        reason,
    )


async def _retry_or_fail(
    pool: asyncpg.Pool, settings: Settings, import_id: uuid.UUID, attempt: int, enqueue: Enqueue
) -> None:
    """After a crash nothing was applied (the apply is one transaction): run it again, a few
    times, then give up with a message the admin can act on."""
    async with pool.acquire() as conn:
        if attempt < settings.max_attempts:
            requeued = await conn.fetchval(
                """UPDATE imports SET status = 'queued', attempt = attempt + 1,
                       lease_until = NULL, rows_processed = 0, bytes_processed = 0
                   WHERE id = $1 AND attempt = $2 AND status IN ('validating', 'applying')
                   RETURNING attempt""",
                import_id,
                attempt,
            )
            if requeued is not None:
                await enqueue(import_id, int(requeued))
            return
        await _fail_internal(
            conn,
            import_id,
            attempt,
            f"The import stopped on an internal error {attempt} times and was given up; "
            "nothing was applied. Upload the file again, or contact support if it recurs.",
        )
