"""The end of an import: one transaction that locks the import row, checks that this attempt
still owns it (the fencing token), applies the rows, stores the errors and the result, and
marks the import finished. A second run of the same job finds it finished and changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from api.import_types.row_error import RowError

Apply = Callable[[], Awaitable[dict[str, Any]]]


async def move(
    conn: asyncpg.Connection, import_id: uuid.UUID, attempt: int, *, to: str, from_: str
) -> bool:
    moved = await conn.fetchval(
        "UPDATE imports SET status = $3 WHERE id = $1 AND attempt = $2 AND status = $4 RETURNING 1",
        import_id,
        attempt,
        to,
        from_,
    )
    return bool(moved)


async def _owned(conn: asyncpg.Connection, import_id: uuid.UUID, attempt: int, status: str) -> bool:
    row = await conn.fetchrow(
        "SELECT status, attempt FROM imports WHERE id = $1 FOR UPDATE", import_id
    )
    return row is not None and row["status"] == status and row["attempt"] == attempt


async def _store_errors(
    conn: asyncpg.Connection, import_id: uuid.UUID, errors: list[RowError]
) -> None:
    await conn.execute("DELETE FROM import_errors WHERE import_id = $1", import_id)
    if errors:
        await conn.copy_records_to_table(
            "import_errors",
            records=[
                (import_id, seq, e.line, e.column, e.value, e.code, e.message)
                for seq, e in enumerate(errors)
            ],
            columns=["import_id", "seq", "line", "column", "value", "code", "message"],
        )


async def finish(
    conn: asyncpg.Connection,
    import_id: uuid.UUID,
    attempt: int,
    *,
    expect: str,
    status: str,
    rows: int | None,
    result: dict[str, Any] | None,
    errors: list[RowError],
    error_count: int | None,
    summary: str | None,
    apply: Apply | None = None,
) -> bool:
    """False when the import is no longer this attempt's (cancelled, or retried elsewhere).

    ``finished_at`` is the clock's time, not ``now()``: on the fast path this transaction began
    when the file's first row was read.
    """
    async with conn.transaction():
        if not await _owned(conn, import_id, attempt, expect):
            return False
        if apply is not None:
            # Uniqueness of descriptions holds for the state after the whole file (swaps).
            await conn.execute("SET CONSTRAINTS ALL DEFERRED")
            result = await apply()
        await _store_errors(conn, import_id, errors)
        await conn.execute(
            """UPDATE imports SET status = $2, result = $3::jsonb, error_summary = $4,
                   error_count = $5, rows_total = $6::bigint,
                   rows_processed = coalesce($6::bigint, 0),
                   finished_at = clock_timestamp(), lease_until = NULL
               WHERE id = $1""",
            import_id,
            status,
            json.dumps(result) if result is not None else None,
            summary,
            error_count,
            rows,
        )
    return True
