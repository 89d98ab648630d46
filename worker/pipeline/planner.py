"""Statistics that know the app's stored rows before an import's statements are planned.

Every import statement finds the app's stored rows by key, and the planner sizes "the app's
rows" from the table's statistics. Those are gathered by autovacuum, which may be off, may lag,
and analyzes a table only once a tenth of it has changed: a new app's million cases in a table
of twenty million never trigger it. Statistics that believe an app has a handful of rows make
the planner scan all of them once per row of a batch instead of probing the key.

So before an import, the planner's estimate of the app's rows is checked against a count of
them that stops at ``PROBE_ROWS`` (a few milliseconds by index, and only when the estimate is
below it); when the estimate is below half the count, the table is analyzed.
"""

from __future__ import annotations

import json
import logging
import uuid

from api.pg import Connection
from worker.pipeline.pg_settings import pg_settings

log = logging.getLogger(__name__)

# Past this, a wrong estimate matters; below it, every plan is cheap.
PROBE_ROWS = 20_000

# The bounded count goes by index, whatever the statistics say: the planner takes an app's rows
# to be spread evenly through the table, so with a LIMIT it may pick a table scan that, for an
# app whose rows sit at the end of a large table, reads nearly all of it. A bitmap scan would
# read all of the app's index entries before stopping.
_BY_INDEX = {"enable_seqscan": "off", "enable_bitmapscan": "off"}


async def planner_rows(conn: Connection, table: str, app_id: uuid.UUID) -> int:
    """How many rows of the app the planner believes ``table`` holds."""
    # EXPLAIN plans with the value in the statement (a uuid.UUID prints as a plain uuid).
    plan = await conn.fetchval(
        f"EXPLAIN (FORMAT JSON) SELECT FROM {table} WHERE app_id = '{app_id}'"
    )
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


async def bounded_count(conn: Connection, table: str, app_id: uuid.UUID) -> int:
    """The app's rows in ``table``, counted up to ``PROBE_ROWS``."""
    async with conn.transaction(), pg_settings(conn, _BY_INDEX):
        counted = await conn.fetchval(
            f"SELECT count(*) FROM (SELECT FROM {table} WHERE app_id = $1 LIMIT $2) AS t",
            app_id,
            PROBE_ROWS,
        )
    return int(counted)


async def refresh_if_stale(conn: Connection, table: str, app_id: uuid.UUID) -> bool:
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
