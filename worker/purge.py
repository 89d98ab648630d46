"""Deleting the content of uploaded files past their retention time
(``CASEIMPORT_FILE_RETENTION_DAYS``): their chunks go, their ``files`` row stays with
``purged_at``, so an import still says which file it read and when that file was purged.

Only files of finished imports are purged. Each batch is one short statement that locks the
files it purges and takes a share lock on their imports, skipping any a request holds: a
request that is about to run an import again (a corrected file, an apply) either finishes
first, and the import is no longer finished, or waits the moment the batch takes.

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

_PURGE_BATCH = f"""
    WITH due AS (
        SELECT f.id FROM files AS f
        JOIN import_files AS i ON i.file_id = f.id
        JOIN imports AS m ON m.id = i.import_id
        WHERE f.purged_at IS NULL AND f.created_at < now() - make_interval(days => $1)
            AND m.status IN {sql_list(FINISHED)}
        ORDER BY f.created_at
        LIMIT $2
        FOR UPDATE OF f SKIP LOCKED FOR KEY SHARE OF m SKIP LOCKED
    ), chunks AS (
        DELETE FROM file_chunks AS c USING due WHERE c.file_id = due.id
    )
    UPDATE files SET purged_at = now() FROM due WHERE files.id = due.id
"""


async def purge_old_files(pool: Pool, retention_days: int) -> int:
    """Purge every file past ``retention_days`` whose import is finished, a batch at a time;
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
        done = affected(await conn.execute(_PURGE_BATCH, retention_days, BATCH_FILES))
        purged += done
        if done < BATCH_FILES:
            break
    if purged:
        log.info("purged %s files older than %s days", purged, retention_days)
    return purged
