"""The dry path of validate_only: a clean file's keys copied into a table of the job's own whose
constraints refuse repeats, then looked up among stored rows. Nothing that lasts is written."""

from __future__ import annotations

import asyncpg

from api.pg import Connection
from worker.pipeline.heartbeat import Progress
from worker.pipeline.job import Job
from worker.pipeline.outcome import Completed, Refused
from worker.pipeline.read import read_into_table


async def run(conn: Connection, job: Job, progress: Progress) -> Completed:
    """Refused at the first bad row, a repeated key, or a key already stored."""
    target = job.statements.dry_copy
    assert target is not None
    for ddl in target.create:
        await conn.execute(ddl)
    try:
        read = await read_into_table(conn, job, target, progress)
    except asyncpg.IntegrityConstraintViolationError:
        raise Refused from None
    if target.refused is not None and await target.refused.fetchval(conn, job.scope):
        raise Refused
    job.clock.lap("check")
    counts = job.statements.outcome(read.rows, read.rows).counts(read.rows)
    return Completed(counts, warnings=read.warnings, read_as=read.read_as)
