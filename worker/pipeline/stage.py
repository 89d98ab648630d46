"""The staging tables of the checked path: every readable row is COPYed in, then checked by SQL
in sets, and the good ones applied."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any

from api.import_types.row_error import RowError
from api.imports.error_groups import ErrorGroup
from api.pg import Connection, affected
from worker.pipeline.pg_settings import pg_settings
from worker.pipeline.sql.spec import Staging, TypeStatements
from worker.pipeline.sql.statement import Scope
from worker.pipeline.tables import GOOD_ROW, STAGE, STAGE_ERRORS

# With on_error=skip, a skipped row can make another one invalid (``TypeStatements.recheck``);
# each round finds the rows a previous round's skips affected. Files this tangled are rare.
MAX_RECHECK_ROUNDS = 20

# The checks group the whole file's key hashes: with more memory than the default a sort does
# not spill to disk, and over a million bigints a sort then a group beats a hash aggregate.
CHECK_SETTINGS = {"work_mem": "128MB", "enable_hashagg": "off"}


async def create_tables(conn: Connection, staging: Staging) -> None:
    await conn.execute(staging.ddl(STAGE))
    await conn.execute(
        f"""CREATE TEMPORARY TABLE {STAGE_ERRORS} (
                line bigint NOT NULL, col_order int NOT NULL, col text,
                value text, code text NOT NULL, message text NOT NULL) ON COMMIT DROP"""
    )


async def copy_rows(
    conn: Connection,
    staging: Staging,
    records: Iterable[tuple[Any, ...]] | AsyncIterable[tuple[Any, ...]],
    *,
    table: str = STAGE,
) -> None:
    await conn.copy_records_to_table(table, records=records, columns=staging.names)


async def run_checks(
    conn: Connection, statements: TypeStatements, scope: Scope, *, skip_bad_rows: bool
) -> None:
    # The planner knows nothing of a temporary table until it is analyzed; without it, joins
    # against a million staged rows can pick per-row plans.
    await conn.execute(f"ANALYZE {STAGE}")
    async with pg_settings(conn, CHECK_SETTINGS):
        for check in statements.checks:
            await check.execute(conn, scope)
        if skip_bad_rows and statements.recheck is not None:
            for _ in range(MAX_RECHECK_ROUNDS):
                if affected(await statements.recheck.execute(conn, scope)) == 0:
                    break


async def sql_errors(conn: Connection, keep: int) -> tuple[int, list[RowError]]:
    """The number of rows with errors found here, and the first ``keep`` errors in line order.

    Rows whose cells already failed were counted when they were read, so they are not counted
    again; their errors from here are still reported.
    """
    bad_rows = await conn.fetchval(
        f"""SELECT count(DISTINCT e.line) FROM {STAGE_ERRORS} e
            JOIN {STAGE} s ON s.line = e.line WHERE s.cells_ok"""
    )
    rows = await conn.fetch(
        f"""SELECT line, col, value, code, message FROM {STAGE_ERRORS}
            ORDER BY line, col_order LIMIT $1""",
        keep,
    )
    return int(bad_rows), [
        RowError(
            line=r["line"], column=r["col"], value=r["value"], code=r["code"], message=r["message"]
        )
        for r in rows
    ]


async def sql_error_groups(conn: Connection) -> list[ErrorGroup]:
    """Every error found here, counted by code and column, with the first of each (one sort
    of the errors, however many)."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (code, col) code, col, line, message,
                   count(*) OVER (PARTITION BY code, col) AS n
            FROM {STAGE_ERRORS} ORDER BY code, col, line, col_order"""
    )
    return [ErrorGroup(r["code"], r["col"], r["n"], r["line"], r["message"]) for r in rows]


async def good_rows(conn: Connection) -> int:
    value = await conn.fetchval(f"SELECT count(*) FROM {STAGE} s WHERE {GOOD_ROW}")
    return int(value)


@dataclass(frozen=True, slots=True)
class Recorded:
    created: int
    updated: int
    unchanged: int


async def record_changes(
    conn: Connection, statements: TypeStatements, scope: Scope, *, plan: bool
) -> Recorded:
    """Record what each good row does (before it is done); a plan records its creates too."""
    row = await (statements.plan if plan else statements.record).fetchrow(conn, scope)
    assert row is not None
    return Recorded(int(row["created"]), int(row["updated"]), int(row["unchanged"]))


async def record_failed(conn: Connection, statements: TypeStatements, scope: Scope) -> None:
    """One change row per failed line."""
    await statements.record_failed.execute(conn, scope)


async def apply(conn: Connection, statements: TypeStatements, scope: Scope) -> None:
    # Uniqueness holds for the state after the whole file (two cases may swap descriptions).
    await conn.execute("SET CONSTRAINTS ALL DEFERRED")
    await statements.apply.execute(conn, scope)
    await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
