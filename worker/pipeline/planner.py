"""How an import's statements get planned: statistics that know the app's stored rows, and
planner settings scoped to a block of statements.

Every import statement finds the app's stored rows by key, and the planner sizes "the app's
rows" from the table's statistics. Those are gathered by autovacuum, which may be off, may lag,
and analyzes a table only once a tenth of it has changed: a new app's million cases in a table
of twenty million never trigger it. Statistics that believe an app has a handful of rows make
the planner scan all of them once per row of a batch instead of probing the key: seen here, a
million-row modify still in its first batch after 13 minutes, where it takes 20 s.

So before an import, the planner's estimate of the app's rows is checked against a count of
them that stops at ``PROBE_ROWS`` (a few milliseconds by index, and only when the estimate is
below it); when the estimate is below half the count, the table is analyzed (a sample of 30,000
rows at the default statistics target: about 0.3 s for a million rows here).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping

import asyncpg

log = logging.getLogger(__name__)

# Past this, a wrong estimate matters; below it, every plan is cheap.
PROBE_ROWS = 20_000

# The bounded count goes by index, whatever the statistics say: the planner takes an app's rows
# to be spread evenly through the table, so with a LIMIT it may pick a table scan that, for an
# app whose rows sit at the end of a large table, reads nearly all of it. A bitmap scan would
# read all of the app's index entries before stopping.
_BY_INDEX = {"enable_seqscan": "off", "enable_bitmapscan": "off"}


async def set_local(conn: asyncpg.Connection, settings: Mapping[str, str]) -> None:
    """``settings`` for the rest of the current transaction, in one round trip."""
    args = [item for pair in settings.items() for item in pair]
    calls = ", ".join(f"set_config(${i + 1}, ${i + 2}, true)" for i in range(0, len(args), 2))
    await conn.execute(f"SELECT {calls}", *args)


@contextlib.asynccontextmanager
async def scoped(conn: asyncpg.Connection, settings: Mapping[str, str]) -> AsyncIterator[None]:
    """``settings`` for the transaction's statements until the block ends; then the values
    before it again, for the statements that follow."""
    names = list(settings)
    before = await conn.fetchrow(
        "SELECT " + ", ".join(f"current_setting(${i + 1})" for i in range(len(names))), *names
    )
    await set_local(conn, settings)
    # No ``finally``: after an error the caller rolls back, which undoes these settings too,
    # and an aborted transaction would refuse the restoring statement anyway.
    yield
    assert before is not None
    await set_local(conn, dict(zip(names, before, strict=True)))


async def planner_rows(conn: asyncpg.Connection, table: str, app_id: uuid.UUID) -> int:
    """How many rows of the app the planner believes ``table`` holds."""
    # EXPLAIN plans with the value in the statement (a uuid.UUID prints as a plain uuid).
    plan = await conn.fetchval(
        f"EXPLAIN (FORMAT JSON) SELECT FROM {table} WHERE app_id = '{app_id}'"
    )
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


async def bounded_count(conn: asyncpg.Connection, table: str, app_id: uuid.UUID) -> int:
    """The app's rows in ``table``, counted up to ``PROBE_ROWS``."""
    async with conn.transaction():
        await set_local(conn, _BY_INDEX)
        counted = await conn.fetchval(
            f"SELECT count(*) FROM (SELECT FROM {table} WHERE app_id = $1 LIMIT $2) AS t",
            app_id,
            PROBE_ROWS,
        )
    return int(counted)


async def refresh_if_stale(conn: asyncpg.Connection, table: str, app_id: uuid.UUID) -> bool:
    """Analyze ``table`` when the planner believes the app has far fewer rows than it does;
    true when it did."""
    believed = await planner_rows(conn, table, app_id)
    if believed * 2 >= PROBE_ROWS:
        return False  # no count up to PROBE_ROWS could show it too low
    counted = await bounded_count(conn, table, app_id)
    if believed * 2 >= counted:
        return False
    await conn.execute(f"ANALYZE {table}")
    log.info(
        "analyzed %s: the planner believed app %s has %s rows, it has at least %s",
        table,
        app_id,
        believed,
        counted,
    )
    return True
