"""The batched path: a clean file that changes stored rows (a modify), applied batch by batch
in the job's transaction, each batch's database round (its COPY, its UPDATE) running while
Python parses the next, so that the two overlap on the two cores.

Anything wrong (a row that matches no stored row, a repeated key, a constraint) refuses the
file at the first batch that shows it, and the checked path then reports every problem.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg

from api.pg import Connection, affected
from worker.pipeline import stage
from worker.pipeline.heartbeat import Progress
from worker.pipeline.job import Job
from worker.pipeline.outcome import Completed, Refused
from worker.pipeline.pg_settings import pg_settings
from worker.pipeline.read import BatchReading
from worker.pipeline.sql.spec import BatchedApply
from worker.pipeline.tables import BATCH, KEPT

# Big enough that PostgreSQL's per-statement costs fade, small enough that the parsed batches
# held at once stay small and progress keeps moving (docs/performance.md).
BATCH_ROWS = 50_000

Batch = list[tuple[Any, ...]]

# How each batch's statement is planned: by index (the work follows the batch's size, not the
# app's), with the batch's own app and import ids every time (a generic plan guesses), without
# JIT (it would compile the statement again for every batch), and without a cache in front of
# the update's look-up of each row version it found (every look-up misses: each version is
# found once). Only for the batches: the check after them joins whole tables, where a forced
# nested loop would be quadratic.
BATCH_PLANS = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "enable_memoize": "off",
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
}


async def run(conn: Connection, job: Job, progress: Progress) -> Completed:
    """Refused when a batch, the rows kept for the end, or a constraint shows a problem."""
    plan = job.statements.batched
    assert plan is not None
    staging = job.statements.staging
    await conn.execute(staging.ddl(BATCH))
    await conn.execute(f"CREATE TEMPORARY TABLE {KEPT} ({plan.kept_columns}) ON COMMIT DROP")
    # Swaps of descriptions between cases are checked once all batches are in.
    await conn.execute("SET CONSTRAINTS ALL DEFERRED")

    async def write(batch: Batch) -> int:
        # The whole database round of a batch: how many rows it changed.
        await conn.execute(f"TRUNCATE {BATCH}")
        await stage.copy_rows(conn, staging, batch, table=BATCH)
        changed = affected(await plan.apply.execute(conn, job.scope))
        if changed < len(batch) and not await _accounted(conn, job, plan, changed):
            raise Refused
        return changed

    reading = BatchReading(job, progress, BATCH_ROWS)
    async with pg_settings(conn, BATCH_PLANS):
        rows, changed = await _overlapped(aiter(reading), write)
    job.clock.lap("write")
    await conn.execute(f"ANALYZE {KEPT}")
    if await plan.refused.fetchval(conn, job.scope):
        raise Refused
    try:
        await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except asyncpg.IntegrityConstraintViolationError:
        raise Refused from None
    counts = job.statements.outcome(changed, rows).counts(rows)
    result = reading.result
    return Completed(counts, warnings=result.warnings, read_as=result.read_as)


async def _accounted(conn: Connection, job: Job, plan: BatchedApply, changed: int) -> bool:
    """A batch that changed fewer rows than it holds is clean when every row found its stored
    row and no stored row was meant twice."""
    found = await plan.account.fetchrow(conn, job.scope)
    assert found is not None
    return not found["missing"] and found["marked"] == changed


async def _overlapped(
    batches: AsyncIterator[Batch], write: Callable[[Batch], Coroutine[Any, Any, int]]
) -> tuple[int, int]:
    """``write`` each batch while the next one is read; (rows, rows changed) of them all. A
    batch's problem (``Refused``) comes out at the next batch, or at the end."""
    pending: asyncio.Task[int] | None = None
    rows = changed = 0

    async def settle() -> None:
        nonlocal pending, changed
        if pending is None:
            return
        done, pending = pending, None
        changed += await done

    try:
        async for batch in batches:
            await settle()  # the connection is free again
            rows += len(batch)
            pending = asyncio.create_task(write(batch))
            await asyncio.sleep(0)  # let the task start its round before parsing goes on
        await settle()
    finally:
        if pending is not None:  # a problem while a batch was being written: let it finish
            with contextlib.suppress(Exception):
                await pending
    return rows, changed
