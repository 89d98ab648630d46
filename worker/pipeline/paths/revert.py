"""Reverting an import: the cases it created deleted, the fields it changed put back, all or
nothing. A case changed again since (a later import changed it, or it is gone) is a conflict:
by default the revert fails and lists them; with on_error=skip the rest is reverted.
"""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from api.import_types.row_error import RowError
from api.imports.error_groups import grouped
from api.imports.lifecycle import Claim, Counts
from api.pg import Connection
from worker.pipeline.heartbeat import Progress
from worker.pipeline.outcome import Completed, Failed, Outcome
from worker.pipeline.sql.cases import set_from

CONFLICTS = "revert_conflicts"

# The cases the reverted import ($1) created, by primary key within the ids its write took
# (bounds, not <@, so that the primary key's index serves).
CREATED = """
    c.id >= (SELECT lower(created_ids) FROM imports WHERE id = $1)
    AND c.id < (SELECT upper(created_ids) FROM imports WHERE id = $1)
    AND c.created_by_import = $1
"""

# $1 the reverted import, $2 this revert. Conflicts are found first, then only the other rows
# are recorded and reverted.
_FIND_CONFLICTS = f"""
    CREATE TEMPORARY TABLE {CONFLICTS} ON COMMIT DROP AS
    SELECT c.created_line AS line, c.id AS case_id, c.tag_id, later.name AS later
    FROM cases c LEFT JOIN imports later ON later.id = c.updated_by_import
    WHERE {CREATED} AND c.updated_by_import IS DISTINCT FROM $1
    UNION ALL
    SELECT ch.line, ch.case_id, ch.tag_id, later.name
    FROM import_changes ch
    LEFT JOIN cases c ON c.id = ch.case_id
    LEFT JOIN imports later ON later.id = c.updated_by_import
    WHERE ch.import_id = $1 AND ch.action = 2
      AND (c.id IS NULL OR c.updated_by_import IS DISTINCT FROM $1
           OR (ch.case_status IS NOT NULL AND c.case_status IS DISTINCT FROM ch.case_status)
           OR (ch.date_opened IS NOT NULL AND c.date_opened IS DISTINCT FROM ch.date_opened)
           OR (ch.about IS NOT NULL AND c.about IS DISTINCT FROM ch.about))
"""

_TO_REVERT = f"""
    SELECT (SELECT count(*) FROM cases c WHERE {CREATED})
         + (SELECT count(*) FROM import_changes WHERE import_id = $1 AND action = 2)
"""

_RECORD_DELETES = f"""
    INSERT INTO import_changes (import_id, line, action, case_id, tag_id,
                                old_case_status, old_date_opened, old_about)
    SELECT $2, c.created_line, 5, c.id, c.tag_id, c.case_status, c.date_opened, c.about
    FROM cases c
    WHERE {CREATED}
      AND NOT EXISTS (SELECT 1 FROM {CONFLICTS} k WHERE k.case_id = c.id)
"""

# A restore writes back the old values of the fields the import changed; its own before-image
# is the case as it is now.
_RECORD_RESTORES = f"""
    INSERT INTO import_changes (import_id, line, action, case_id, tag_id,
        case_status, date_opened, about, about_key,
        old_case_status, old_date_opened, old_about, old_about_key)
    SELECT $2, ch.line, 2, c.id, c.tag_id,
           CASE WHEN ch.case_status IS NOT NULL THEN ch.old_case_status END,
           CASE WHEN ch.date_opened IS NOT NULL THEN ch.old_date_opened END,
           CASE WHEN ch.about IS NOT NULL THEN ch.old_about END,
           CASE WHEN ch.about IS NOT NULL THEN ch.old_about_key END,
           c.case_status, c.date_opened, c.about,
           CASE WHEN ch.about IS NOT NULL THEN c.about_key END
    FROM import_changes ch JOIN cases c ON c.id = ch.case_id
    WHERE ch.import_id = $1 AND ch.action = 2
      AND NOT EXISTS (SELECT 1 FROM {CONFLICTS} k WHERE k.case_id = c.id)
"""

_RECORD_CONFLICTS = f"""
    INSERT INTO import_changes (import_id, line, action, case_id, tag_id)
    SELECT $1, line, 4, case_id, tag_id FROM {CONFLICTS}
"""

_RESTORE = f"""
    UPDATE cases c SET {set_from("r", by="$1")}
    FROM import_changes r
    WHERE r.import_id = $1 AND r.action = 2 AND c.id = r.case_id
"""

_DELETE = """
    DELETE FROM cases c USING import_changes r
    WHERE r.import_id = $1 AND r.action = 5 AND c.id = r.case_id
"""


def _conflict(line: int | None, tag_id: str, later: str | None) -> RowError:
    since = f'by the import "{later}"' if later else "since (or deleted)"
    return RowError(
        line,
        "tag_id",
        tag_id,
        "revert_conflict",
        f'Case "{tag_id}" was changed {since} after this import; it is left as it is.',
    )


async def run(conn: Connection, claim: Claim, progress: Progress, keep: int) -> Outcome:
    reverted, revert = claim.revert_of, claim.import_id
    assert reverted is not None
    await conn.execute(_FIND_CONFLICTS, reverted)
    rows = int(await conn.fetchval(_TO_REVERT, reverted))
    found = await conn.fetch(
        f"SELECT line, tag_id, later FROM {CONFLICTS} ORDER BY line LIMIT $1", keep
    )
    conflicts = int(await conn.fetchval(f"SELECT count(*) FROM {CONFLICTS}"))
    errors = [_conflict(r["line"], r["tag_id"], r["later"]) for r in found]
    groups = [replace(group, count=conflicts) for group in grouped(errors[:1])]
    if conflicts and not claim.skip_bad_rows:
        await conn.execute(_RECORD_CONFLICTS, revert)
        return Failed(Counts(rows, failed=conflicts), errors, conflicts, error_groups=groups)
    progress.applying()
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves nothing behind
            await conn.execute("SET CONSTRAINTS ALL DEFERRED")
            await conn.execute(_RECORD_CONFLICTS, revert)
            deleted = await conn.fetchval(
                f"WITH d AS ({_RECORD_DELETES} RETURNING 1) SELECT count(*) FROM d",
                reverted,
                revert,
            )
            restored = await conn.fetchval(
                f"WITH r AS ({_RECORD_RESTORES} RETURNING 1) SELECT count(*) FROM r",
                reverted,
                revert,
            )
            await conn.execute(_RESTORE, revert)
            await conn.execute(_DELETE, revert)
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except asyncpg.UniqueViolationError:
        message = (
            "A description this revert would put back now belongs to another case; "
            "nothing was reverted."
        )
        taken = RowError(None, "about", None, "revert_conflict", message)
        return Failed(Counts(rows, failed=1), [taken], 1, error_groups=grouped([taken]))
    counts = Counts(rows, updated=int(restored), failed=conflicts, deleted=int(deleted))
    return Completed(counts, errors, conflicts, error_groups=groups)
