"""The batched fast path: a clean file's rows applied batch by batch, in one transaction, while
the next batch is parsed.

An UPDATE of a million cases is mostly PostgreSQL's work (new row versions, their index
entries); run after the whole file is parsed and checked, it comes on top of Python's time.
Here each batch's whole database round (its COPY, its UPDATE) runs while Python parses the next
batch, so the two overlap on the two cores. A clean batch of a file that changes every case it
names costs PostgreSQL what the same UPDATE by hand would (see ``BatchedApply``).

A batch is 50,000 rows. Larger batches cost PostgreSQL a little less per row (100,000 saved
about 6% of a million-row modify here), but two batches of parsed rows are held at once (the
worker's peak went from ~150 to ~210 MiB), and ``rows_processed`` stands still while Python
waits for a batch's round (up to 3.2 s instead of 1.8 s): not worth it.

Anything wrong (a row that matches no case, a repeated key, a constraint) undoes the
transaction, and the checked path then reports every problem. Each batch's statement finds
what it can (see ``BatchedApply``), so a bad file is given up at its first bad batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from api.import_types.base import BATCH_TABLE, KEPT_TABLE, BatchedApply, ImportType
from worker.pipeline import planner, stage
from worker.pipeline.heartbeat import Progress
from worker.pipeline.read import RowsRejected, read_batches

BATCH_ROWS = 50_000

Batch = list[tuple[Any, ...]]

# How each batch's statement is planned. Left to itself, the planner hashes all of the app's
# cases to join a batch, once per batch (twenty scans of a million cases for a million rows);
# found by index, the work follows the batch's size. Each batch is planned with its own app and
# import ids: after five runs of a statement PostgreSQL may switch to a generic plan, made
# without the values, whose guesses can be wild (seen here: a plan that scanned all of the
# app's cases once per row of a batch). JIT would compile the statement again for every batch,
# for more time than it saves. Only for the batches (``planner.scoped``): the check after them
# joins whole tables, where a forced nested loop would be quadratic in repeated rows.
BATCH_PLANS = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
}


@dataclass(frozen=True, slots=True)
class Applied:
    rows: int
    changed: int


async def apply_in_batches(
    conn: asyncpg.Connection,
    chunks: Callable[[], AsyncIterator[bytes]],
    import_type: ImportType,
    plan: BatchedApply,
    app_id: uuid.UUID,
    import_id: uuid.UUID,
    progress: Progress,
) -> Applied:
    """Apply every batch in the caller's transaction; ``RowsRejected`` when the file needs the
    checked path (the caller rolls back)."""
    batches = read_batches(chunks, import_type, progress, date.today(), BATCH_ROWS)
    async with planner.scoped(conn, BATCH_PLANS):

        async def write(batch: Batch) -> int:
            # The whole database round of a batch: how many rows it changed.
            await conn.execute(f"TRUNCATE {BATCH_TABLE}")
            await stage.copy_rows(conn, import_type, batch, table=BATCH_TABLE)
            changed = stage.affected(await conn.execute(plan.apply_sql, app_id, import_id))
            if changed < len(batch):
                outcome = await conn.fetchrow(plan.account_sql, app_id, import_id)
                assert outcome is not None
                if outcome["missing"] or outcome["marked"] != changed:
                    raise RowsRejected
            return changed

        rows, changed = await _overlapped(batches, write)
    await conn.execute(f"ANALYZE {KEPT_TABLE}")
    if await conn.fetchval(plan.refused_sql, app_id, import_id):
        raise RowsRejected
    return Applied(rows=rows, changed=changed)


async def _overlapped(
    batches: AsyncIterator[Batch], write: Callable[[Batch], Coroutine[Any, Any, int]]
) -> tuple[int, int]:
    """``write`` each batch while the next one is read; (rows, rows changed) of them all. A
    batch's problem (``RowsRejected``) comes out at the next batch, or at the end."""
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
