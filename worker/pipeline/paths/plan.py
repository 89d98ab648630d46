"""Applying a plan: a check-only import's recorded changes, written exactly as they were checked,
without reading its file again; or, when a case it touches changed since, nothing (plan_stale).
"""

from __future__ import annotations

import json
import uuid

import asyncpg

from api.changes.staleness import Stale, first_stale
from api.import_types.row_error import ImportWarning, RowError
from api.imports.error_groups import ErrorGroup, grouped
from api.imports.file_format import FileFormat
from api.imports.lifecycle import Claim, Counts, ReadAs
from api.pg import Connection
from worker.pipeline.heartbeat import Progress
from worker.pipeline.outcome import Completed, Failed, Outcome
from worker.pipeline.sql.cases import set_from

_CHANGE_COLUMNS = """line, action, case_id, tag_id, tag_key, about_key, case_status, date_opened,
    about, old_case_status, old_date_opened, old_about, old_about_key"""

# The plan's rows become this import's, creates aside (the cases they make carry their line).
_RECORD = f"""
    INSERT INTO import_changes (import_id, {_CHANGE_COLUMNS})
    SELECT $2, {_CHANGE_COLUMNS} FROM import_changes WHERE import_id = $1 AND action <> 1
"""

_UPDATE = f"""
    UPDATE cases c SET {set_from("p")}
    FROM import_changes p
    WHERE p.import_id = $1 AND p.action = 2 AND c.id = p.case_id
"""

_CREATE = """
    INSERT INTO cases (app_id, tag_id, tag_key, case_status, date_opened, about, about_key,
                       created_by_import, updated_by_import, created_line)
    SELECT $3, tag_id, tag_key, case_status, date_opened, about, about_key, $2, $2, line
    FROM import_changes WHERE import_id = $1 AND action = 1
    ORDER BY line
"""


def _stale(line: int | None, tag_id: str | None, message: str) -> Failed:
    error = RowError(line, "tag_id" if tag_id else None, tag_id, "plan_stale", message)
    return Failed(
        None, [error], 0, error_groups=grouped([error]), lead="The plan cannot be applied."
    )


async def run(conn: Connection, claim: Claim, progress: Progress) -> Outcome:
    plan_id = claim.plan_id
    assert plan_id is not None
    found = await conn.fetchrow(first_stale("$1", "$2"), claim.app_id, plan_id)
    if found is not None:
        stale = Stale(found["line"], found["tag_id"], found["what"])
        return _stale(stale.line, stale.tag_id, stale.message)
    progress.applying()
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves nothing behind
            await conn.execute("SET CONSTRAINTS ALL DEFERRED")
            await conn.execute(_RECORD, plan_id, claim.import_id)
            await conn.execute(_UPDATE, plan_id, claim.import_id)
            await conn.execute(_CREATE, plan_id, claim.import_id, claim.app_id)
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except asyncpg.UniqueViolationError:
        return _stale(
            None,
            None,
            "The plan is stale: a description it sets now belongs to another case. "
            "Check the file again to make a new plan.",
        )
    return await _as_planned(conn, plan_id)


async def _as_planned(conn: Connection, plan_id: uuid.UUID) -> Completed:
    """The plan's result, its skipped rows' errors and its warnings: the same rows, applied."""
    plan = await conn.fetchrow(
        """SELECT result, error_rows, error_groups, warnings,
                  file_format, file_encoding, file_delimiter
           FROM imports WHERE id = $1""",
        plan_id,
    )
    assert plan is not None
    errors = [
        RowError(r["line"], r["column"], r["value"], r["code"], r["message"])
        for r in await conn.fetch(
            """SELECT line, "column", value, code, message FROM import_errors
               WHERE import_id = $1 ORDER BY seq""",
            plan_id,
        )
    ]
    result = json.loads(plan["result"])
    warnings = [ImportWarning(**w) for w in json.loads(plan["warnings"] or "[]")]
    read_as = (
        ReadAs(
            FileFormat(plan["file_format"]),
            plan["file_encoding"],
            plan["file_delimiter"],
            blank_rows=result.get("blank_rows", 0),
        )
        if plan["file_format"]
        else None
    )
    counts = Counts(**{k: v for k, v in result.items() if k in Counts.__dataclass_fields__})
    groups = [ErrorGroup(**g) for g in json.loads(plan["error_groups"] or "[]")]
    return Completed(counts, errors, plan["error_rows"] or 0, warnings, read_as, groups)
