"""The per-import staging tables: good rows are COPYed in, then checked by SQL in sets.

Both tables are temporary, private to the job's connection, and dropped when the job ends.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterable, Iterable
from typing import Any

import asyncpg

from api.import_types.base import (
    BATCH_TABLE,
    GOOD_ROW,
    KEPT_TABLE,
    STAGE_ERRORS_TABLE,
    STAGE_TABLE,
    ImportType,
)
from api.import_types.row_error import RowError

# With on_error=skip, a skipped row can make another one invalid (see ImportType's
# fixed_point_check_sql); each
# round finds the rows a previous round's skips affected. Files this tangled are rare.
MAX_FIXED_POINT_ROUNDS = 20

# Memory each sort or hash of the checks may use before spilling to disk (per job).
CHECK_WORK_MEM = "128MB"


def _params(sql: str, *args: Any) -> tuple[Any, ...]:
    """The arguments a statement uses: asyncpg wants exactly as many as it has placeholders."""
    used = max((int(n) for n in re.findall(r"\$(\d+)", sql)), default=0)
    return args[:used]


def affected(status: str) -> int:
    """How many rows a statement touched, from its command tag."""
    # asyncpg returns the command tag, e.g. "INSERT 0 12" or "UPDATE 7".
    return int(status.rsplit(" ", 1)[-1])


async def create_tables(conn: asyncpg.Connection, import_type: ImportType) -> None:
    await drop_tables(conn)
    await conn.execute(import_type.create_staging_sql())
    await conn.execute(
        f"""CREATE TEMPORARY TABLE {STAGE_ERRORS_TABLE} (
                line bigint NOT NULL, col_order int NOT NULL, col text,
                value text, code text NOT NULL, message text NOT NULL)"""
    )


async def create_batch_tables(conn: asyncpg.Connection, kept_columns: str) -> None:
    """The table one batch passes through on the batched fast path, and the table of what is
    kept of the batches for the check at the end (see batches.py)."""
    await conn.execute(f"CREATE TEMPORARY TABLE {BATCH_TABLE} (LIKE {STAGE_TABLE})")
    await conn.execute(f"CREATE TEMPORARY TABLE {KEPT_TABLE} ({kept_columns})")


async def drop_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(
        f"DROP TABLE IF EXISTS {STAGE_TABLE}, {STAGE_ERRORS_TABLE}, {BATCH_TABLE}, {KEPT_TABLE}"
    )


async def truncate(conn: asyncpg.Connection) -> None:
    await conn.execute(f"TRUNCATE {STAGE_TABLE}, {STAGE_ERRORS_TABLE}")


async def copy_rows(
    conn: asyncpg.Connection,
    import_type: ImportType,
    records: Iterable[tuple[Any, ...]] | AsyncIterable[tuple[Any, ...]],
    *,
    table: str = STAGE_TABLE,
) -> None:
    columns = ["line", "cells_ok", *(name for name, _ in import_type.staging_columns)]
    await conn.copy_records_to_table(table, records=records, columns=columns)


async def run_checks(
    conn: asyncpg.Connection, import_type: ImportType, app_id: uuid.UUID, *, skip_bad_rows: bool
) -> None:
    # The planner knows nothing of a temporary table until it is analyzed; without it, joins
    # against a million staged rows can pick per-row plans (notes/measurements.md, "A trap").
    await conn.execute(f"ANALYZE {STAGE_TABLE}")
    # The checks group the whole file's key hashes (repeated tags and descriptions): with the
    # default 4 MB a sort spills to disk, and over a million bigints a sort then a group
    # (~0.4 s) beats PostgreSQL's hash aggregate (~0.7 s). The pool's RESET ALL restores both
    # settings when the job ends.
    await conn.execute(f"SET work_mem = '{CHECK_WORK_MEM}'")
    await conn.execute("SET enable_hashagg = off")
    for sql in import_type.check_sql():
        await conn.execute(sql, *_params(sql, app_id))
    again = import_type.fixed_point_check_sql()
    if skip_bad_rows and again:
        for _ in range(MAX_FIXED_POINT_ROUNDS):
            if affected(await conn.execute(again, *_params(again, app_id))) == 0:
                break


async def sql_errors(conn: asyncpg.Connection, keep: int) -> tuple[int, list[RowError]]:
    """The number of rows with errors found here, and the first ``keep`` errors in line order.

    Rows whose cells already failed were counted when they were read, so they are not counted
    again; their errors from here are still reported.
    """
    bad_rows = await conn.fetchval(
        f"""SELECT count(DISTINCT e.line) FROM {STAGE_ERRORS_TABLE} e
            JOIN {STAGE_TABLE} s ON s.line = e.line WHERE s.cells_ok"""
    )
    rows = await conn.fetch(
        f"""SELECT line, col, value, code, message FROM {STAGE_ERRORS_TABLE}
            ORDER BY line, col_order LIMIT $1""",
        keep,
    )
    return int(bad_rows), [
        RowError(
            line=r["line"], column=r["col"], value=r["value"], code=r["code"], message=r["message"]
        )
        for r in rows
    ]


async def good_rows(conn: asyncpg.Connection) -> int:
    value = await conn.fetchval(f"SELECT count(*) FROM {STAGE_TABLE} s WHERE {GOOD_ROW}")
    return int(value)


async def apply(
    conn: asyncpg.Connection,
    import_type: ImportType,
    app_id: uuid.UUID,
    import_id: uuid.UUID,
    *,
    dry_run: bool,
    good: int,
) -> int:
    """How many rows the apply changes (or would, for a dry run)."""
    if dry_run:
        sql = import_type.dry_run_sql()
        if sql is None:
            return good
        return int(await conn.fetchval(sql, *_params(sql, app_id, import_id)))
    sql = import_type.apply_sql()
    return affected(await conn.execute(sql, *_params(sql, app_id, import_id)))
