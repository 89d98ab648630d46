"""The batched fast path: a clean file's rows applied batch by batch, in one transaction, while
the next batch is parsed.

An UPDATE of a million cases is mostly PostgreSQL's work (new row versions, their index
entries); run after the whole file is parsed and checked, it comes on top of Python's time.
Here each batch's statement is on the wire before Python parses the next batch, so the two
overlap on the two cores. Anything wrong (a row that matches no case, a repeated key, a
constraint) undoes the transaction, and the checked path then reports every problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from api.import_types.base import BATCH_TABLE, STAGE_TABLE, BatchedApply, ImportType
from worker.pipeline import stage
from worker.pipeline.heartbeat import Progress
from worker.pipeline.read import RowsRejected, read_batches

BATCH_ROWS = 50_000


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
    apply = await conn.prepare(plan.apply_sql)
    kept = ", ".join(plan.kept_columns)
    keep = f"INSERT INTO {STAGE_TABLE} ({kept}) SELECT {kept} FROM {BATCH_TABLE}"
    pending: asyncio.Task[Any] | None = None
    rows = changed = 0

    async def settle() -> None:
        nonlocal pending, changed
        if pending is None:
            return
        done, pending = pending, None
        outcome = await done
        if outcome["missing"]:
            raise RowsRejected
        changed += int(outcome["changed"])

    try:
        async for batch in read_batches(chunks, import_type, progress, date.today(), BATCH_ROWS):
            await settle()  # the connection is free again
            await conn.execute(f"TRUNCATE {BATCH_TABLE}")
            await stage.copy_rows(conn, import_type, batch, table=BATCH_TABLE)
            await conn.execute(keep)
            rows += len(batch)
            pending = asyncio.create_task(apply.fetchrow(app_id, import_id))
            await asyncio.sleep(0)  # let the task send the statement before parsing goes on
        await settle()
    finally:
        if pending is not None:  # a problem while a batch was applying: let it finish
            with contextlib.suppress(Exception):
                await pending
    await conn.execute(f"ANALYZE {STAGE_TABLE}")
    if await conn.fetchval(plan.refused_sql):
        raise RowsRejected
    return Applied(rows=rows, changed=changed)
