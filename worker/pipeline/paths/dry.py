"""The dry path of validate_only: a clean file's rows copied straight into its plan (the rows of
``import_changes`` that say what applying it would create), then its repeats and its clashes with
stored rows looked up. Nothing else is written."""

from __future__ import annotations

import asyncpg

from api.pg import Connection
from worker.pipeline.heartbeat import Progress
from worker.pipeline.job import Job
from worker.pipeline.outcome import Completed, Refused
from worker.pipeline.pg_settings import pg_settings
from worker.pipeline.read import read_into_table

# The look for repeats sorts every planned key's hash at once: a million fit in memory this way,
# where the default spills each sort to disk (docs/performance.md).
REPEATS_LOOKUP = {"work_mem": "128MB", "jit": "off"}


async def run(conn: Connection, job: Job, progress: Progress) -> Completed:
    """Refused at the first bad row, a repeated key, or a key already stored."""
    make = job.statements.dry_copy
    assert make is not None
    target = make(job.scope)
    for ddl in target.create:
        await conn.execute(ddl)
    try:
        read = await read_into_table(conn, job, target, progress)
    except asyncpg.IntegrityConstraintViolationError:
        raise Refused from None
    if target.refused is not None:
        async with pg_settings(conn, REPEATS_LOOKUP):
            refused = await target.refused.fetchval(conn, job.scope)
        if refused:
            raise Refused
    job.clock.lap("check")
    counts = job.statements.outcome(read.rows, read.rows).counts(read.rows)
    return Completed(counts, warnings=read.warnings, read_as=read.read_as)
