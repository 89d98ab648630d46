"""Deleting the content of uploaded files past their retention time
(``CASEIMPORT_FILE_RETENTION_DAYS``): their chunks go, their ``files`` row stays with
``purged_at``, so an import still says which file it read and when that file was purged.

A file may be held by several imports (a check again or an apply shares the file of the import
it comes from): it is purged only once every import that holds it is finished, and the
retention counts from the newest of them. Each batch is one short
transaction. It first locks the files it means to purge and takes a share lock on their
imports, skipping any a request holds: a request that is about to run an import again (a
corrected file, an apply) either finishes first, and the import is no longer finished, or waits
the moment the batch takes; a check again holds its file the same way. It then purges those
files in a statement of its own, which asks again, as of after the locks, that no import holding
them is unfinished: a check again committed just before its file was locked is seen there.

One purge runs at a time across all workers, under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging

from api.imports.status import FINISHED, sql_list
from api.pg import Connection, Pool, advisory_key, affected

log = logging.getLogger(__name__)

PURGE_LOCK = advisory_key("file-purge")
# Files per batch: a batch deletes up to this many files' chunks (200 MiB each at most).
BATCH_FILES = 20

# No import that holds the file waits for a worker or is being worked on.
_NONE_UNFINISHED = f"""NOT EXISTS (
    SELECT 1 FROM import_files AS held JOIN imports AS holder ON holder.id = held.import_id
    WHERE held.file_id = f.id AND holder.status NOT IN {sql_list(FINISHED)})"""

# Retention counts from the file's newest use: an import made from it lately (a check again,
# an apply) keeps it as long as an upload would be kept.
_NONE_RECENT = """NOT EXISTS (
    SELECT 1 FROM import_files AS recent
    WHERE recent.file_id = f.id AND recent.attached_at >= now() - make_interval(days => $1))"""

# One row per file and import that holds it: a shared file may come twice.
_DUE = f"""
    SELECT f.id FROM files AS f
    JOIN import_files AS i ON i.file_id = f.id
    JOIN imports AS m ON m.id = i.import_id
    WHERE f.purged_at IS NULL AND f.created_at < now() - make_interval(days => $1)
        AND {_NONE_RECENT} AND m.status IN {sql_list(FINISHED)} AND {_NONE_UNFINISHED}
    ORDER BY f.created_at
    LIMIT $2
    FOR UPDATE OF f SKIP LOCKED FOR KEY SHARE OF m SKIP LOCKED
"""

_PURGE = f"""
    WITH due AS (
        SELECT f.id FROM files AS f
        WHERE f.id = ANY($1::uuid[]) AND f.purged_at IS NULL AND {_NONE_UNFINISHED}
    ), chunks AS (
        DELETE FROM file_chunks AS c USING due WHERE c.file_id = due.id
    )
    UPDATE files SET purged_at = now() FROM due WHERE files.id = due.id
"""


async def purge_old_files(pool: Pool, retention_days: int) -> int:
    """Purge every file past ``retention_days`` whose imports are finished, a batch at a time;
    how many were purged (0 when another worker is purging)."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PURGE_LOCK):
            return 0
        try:
            return await _purge(conn, retention_days)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK)


async def _purge(conn: Connection, retention_days: int) -> int:
    purged = 0
    while True:
        async with conn.transaction():
            due = await conn.fetch(_DUE, retention_days, BATCH_FILES)
            if due:
                ids = list({row["id"] for row in due})
                purged += affected(await conn.execute(_PURGE, ids))
        if len(due) < BATCH_FILES:
            break
    if purged:
        log.info("purged %s files older than %s days", purged, retention_days)
    return purged
